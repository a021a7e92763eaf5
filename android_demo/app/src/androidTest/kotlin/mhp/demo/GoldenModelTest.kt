package mhp.demo

import androidx.test.ext.junit.runners.AndroidJUnit4
import androidx.test.platform.app.InstrumentationRegistry
import mhp.posecore.CropMath
import mhp.posecore.InputPacker
import mhp.posecore.PixelBuffer
import org.json.JSONObject
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith

/**
 * The bundled INT8 model on this phone against the Python run recorded in the golden files (copyMhpGolden):
 * the same crop packed from the same frame, the same int8 heatmaps (XNNPACK on ARM may round one level apart) and
 * the same decoded joints.
 */
@RunWith(AndroidJUnit4::class)
class GoldenModelTest {
    private val tests = InstrumentationRegistry.getInstrumentation().context
    private val app = InstrumentationRegistry.getInstrumentation().targetContext

    private fun read(path: String): ByteArray = tests.assets.open("golden/$path").use { it.readBytes() }

    private fun json(path: String) = JSONObject(String(read(path)))

    @Test
    fun bundledModelReproducesThePythonRun() {
        val case = json("manifest.json").getJSONArray("cases").let { cases ->
            (0 until cases.length()).map { cases.getJSONObject(it) }.firstOrNull { it.has("artifact_manifest") }
        } ?: error("the golden folder has no real model run; write it with mhp-export --golden DIR --golden-from lpski_int8.tflite")
        val dir = case.getString("name")
        val recorded = json("$dir/${case.getString("artifact_manifest")}")
        val model = ModelAssets.load(app.assets, recorded.getString("artifact"))
        val bundled = JSONObject(app.assets.open(model.file + ModelAssets.MANIFEST_SUFFIX).bufferedReader().use { it.readText() })
        assertEquals(
            "the bundled model is not the one the golden run used",
            recorded.getJSONObject("source_checkpoint").getString("sha256"),
            bundled.getJSONObject("source_checkpoint").getString("sha256"),
        )

        val expected = json("$dir/${case.getString("expected")}")
        val camera = expected.getJSONObject("camera")
        val size = camera.getJSONArray("image_size_px")
        val box = camera.getJSONArray("box_xywh_px").let { a -> DoubleArray(4) { a.getDouble(it) } }
        val cropBox = CropMath.processBox(box, size.getInt(0), size.getInt(1))!!
        val frame = PixelBuffer(read("$dir/${case.getString("image")}"), size.getInt(0), size.getInt(1))
        val packed = InputPacker.pack(frame, CropMath.cropAffine(cropBox, model.manifest.inputSize), model.manifest.inputSize)
        val input = read("$dir/${case.getString("input")}")
        assertTrue("packing differs from OpenCV's crop", packed.indices.all { Math.abs((packed[it].toInt() and 0xFF) - (input[it].toInt() and 0xFF)) <= 2 })

        LiteRtRunner(model.buffer, model.manifest, Accelerator.CPU, 1, model.sha256).use { runner ->
            runner.run(input)
            val heatmaps = runner.outputBytes(model.manifest.outputs.first().name)
            val reference = read("$dir/${case.getString("output")}")
            assertEquals(reference.size, heatmaps.size)
            val worst = heatmaps.indices.maxOf { Math.abs(heatmaps[it] - reference[it]) }
            assertTrue("int8 heatmaps differ by $worst levels", worst <= 1)
            val coords = expected.getJSONArray("coords_voxel")
            val decoded = runner.decode()
            for (j in decoded.coords.indices) for (k in 0 until 3) {
                assertEquals("joint $j axis $k", coords.getJSONArray(j).getDouble(k), decoded.coords[j][k], VOXEL_TOLERANCE)
            }
        }
    }

    private companion object {
        /** One int8 level on a few voxels moves a soft-argmax by hundredths of a voxel. */
        const val VOXEL_TOLERANCE = 0.05
    }
}
