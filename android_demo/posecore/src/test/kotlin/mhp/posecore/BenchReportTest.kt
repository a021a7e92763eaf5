package mhp.posecore

import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.io.File

class BenchReportTest {
    @Test
    fun percentilesInterpolateLikeNumpy() {
        val stats = LatencyStats(DoubleArray(10) { 10.0 - it }) // 10, 9, ..., 1 unsorted
        assertEquals(5.5, stats.percentile(50.0), 1e-12)
        assertEquals(9.1, stats.percentile(90.0), 1e-12)
        assertEquals(9.91, stats.percentile(99.0), 1e-12)
        assertEquals(1.0, stats.min, 0.0)
        assertEquals(5.5, stats.mean, 1e-12)
        assertEquals(3.0, LatencyStats(doubleArrayOf(3.0)).percentile(99.0), 0.0)
        assertThrows(IllegalArgumentException::class.java) { LatencyStats(doubleArrayOf(1.0, Double.NaN)) }
    }

    /** The file the app writes; with -Dmhp.benchOut=FILE it is kept for `mhp-bench --ingest` (tests/android). */
    @Test
    fun reportHoldsTimedAndSkippedRows() {
        val manifest = ModelManifest.parse(MANIFEST)
        val device = JSONObject().put("model", "shiba").put("name", "Google Pixel 8").put("chip", "Tensor G3").put("os", "Android 14 (API 34)")
        val report = BenchReport("android", device, JSONObject().put("name", "mhp-android-demo").put("version", "0.1.0"))
        report.timed(manifest, "lpski_int8.tflite", 4_014_744, "xnnpack", 4, 10, doubleArrayOf(6.0, 5.0, 7.0, 5.5), 21.5, partitions = 1)
        report.skipped(manifest, "lpski_int8.tflite", 4_014_744, "gpu", null, "GPU delegate: INT8 ops are not supported")
        assertEquals(2, report.size)
        val text = report.toJson("2026-11-21T12:00:00Z")
        val rows = JSONObject(text).getJSONArray("rows")
        val timed = rows.getJSONObject(0)
        assertEquals(5.75, timed.getDouble("latency_p50_ms"), 1e-12)
        assertEquals(1000.0 / 5.875, timed.getDouble("throughput_fps"), 1e-9)
        assertEquals("int8", timed.getString("precision"))
        assertTrue(rows.getJSONObject(1).isNull("threads"))
        assertEquals(1, timed.getInt("partitions"))
        val unreported = BenchReport("android", device, JSONObject())
        unreported.timed(manifest, "lpski_int8.tflite", 4_014_744, "gpu", null, 10, doubleArrayOf(6.0), 21.5)
        val row = JSONObject(unreported.toJson("2026-11-21T12:00:00Z")).getJSONArray("rows").getJSONObject(0)
        assertTrue(row.has("partitions") && row.isNull("partitions"))
        val broken = assertThrows(IllegalArgumentException::class.java) { ModelManifest.parse(MANIFEST.replace("64]", "65]")) }
        assertEquals("heatmap output has 65 channels, not joints x depth bins = 64", broken.message)
        assertTrue(assertThrows(IllegalArgumentException::class.java) { ModelManifest.parse("{\"format_name\": \"mhp-export-manifest\"}") }.message!!.startsWith("not a valid mhp export manifest"))
        System.getProperty("mhp.benchOut")?.let { File(it).writeText(text) }
    }

    companion object {
        val MANIFEST = """
            {"format_name": "mhp-export-manifest", "version": 1, "model": "LPSKI", "format": "tflite", "precision": "int8",
             "input": {"name": "image", "shape": [1, 128, 128, 3], "layout": "NHWC", "dtype": "uint8"},
             "outputs": [{"name": "heatmaps", "shape": [1, 16, 16, 64], "dtype": "int8"}],
             "decode": "host_soft_argmax",
             "geometry": {"input_size": 128, "heatmap_size": [16, 16], "depth_bins": 32, "depth_range_mm": 2000.0},
             "joints": {"names": ["Pelvis", "R_Hip"], "bones": [[0, 1]], "root": 0}}
        """.trimIndent()
    }
}
