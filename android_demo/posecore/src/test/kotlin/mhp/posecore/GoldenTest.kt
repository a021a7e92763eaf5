package mhp.posecore

import org.json.JSONArray
import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.TestFactory
import java.io.File
import java.nio.ByteBuffer
import java.nio.ByteOrder

/** Every golden case Python wrote (mhp-export --golden), decoded here, must match within the manifest's tolerances. */
class GoldenTest {
    private val folder = File(System.getProperty("mhp.golden") ?: error("run with -Dmhp.golden=FOLDER"))
    private val manifest = JSONObject(File(folder, "manifest.json").readText())
    private val tolerance = manifest.getJSONObject("tolerances")
    private val skeleton = Skeleton.fromJson(manifest.getJSONObject("joints"))

    @TestFactory
    fun goldenCases(): List<DynamicTest> {
        val cases = manifest.getJSONArray("cases")
        return List(cases.length()) { i ->
            val case = cases.getJSONObject(i)
            DynamicTest.dynamicTest(case.getString("name")) { check(case) }
        }
    }

    private fun check(case: JSONObject) {
        val dir = File(folder, case.getString("name"))
        val expected = JSONObject(File(dir, case.getString("expected")).readText())
        val shape = case.getJSONArray("shape")
        val depth = case.optInt("depth_bins", manifest.getInt("depth_bins"))
        val size = case.optInt("input_size", manifest.getInt("input_size"))
        val height = shape.getInt(1)
        val width = shape.getInt(2)
        val decoder = HeatmapDecoder(height, width, shape.getInt(3) / depth, depth)
        val bytes = File(dir, case.getString("output")).readBytes()
        val decoded: Decoded
        val argmax: Array<IntArray>
        if (case.getString("dtype") == "int8") {
            decoded = decoder.softArgmax(bytes, case.getDouble("scale"))
            argmax = decoder.argmax(bytes)
        } else {
            val floats = FloatArray(bytes.size / 4)
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(floats)
            decoded = decoder.softArgmax(floats)
            argmax = decoder.argmax(floats)
        }
        assertClose(expected.getJSONArray("coords_voxel"), decoded.coords, tolerance.getDouble("coords_voxel"), "coords")
        assertClose(expected.getJSONArray("confidence"), decoded.confidence, tolerance.getDouble("confidence"), "confidence")
        val expectedArgmax = expected.getJSONArray("argmax_voxel")
        for (j in argmax.indices) {
            for (k in 0 until 3) assertEquals(expectedArgmax.getJSONArray(j).getInt(k), argmax[j][k], "argmax of joint $j")
        }

        val camera = expected.getJSONObject("camera")
        val imageSize = camera.getJSONArray("image_size_px")
        val cropBox = CropMath.processBox(doubles(camera.getJSONArray("box_xywh_px")), imageSize.getInt(0), imageSize.getInt(1))
        assertNotNull(cropBox)
        assertClose(camera.getJSONArray("crop_box_xywh_px"), cropBox!!, 1e-6, "crop box")
        val affine = CropMath.cropAffine(cropBox, size)
        val rows = camera.getJSONArray("image_to_crop_affine")
        val expectedAffine = doubles(rows.getJSONArray(0)) + doubles(rows.getJSONArray(1))
        for (i in 0 until 6) assertEquals(expectedAffine[i], affine.m[i], 1e-9, "affine[$i]")
        val toImage = affine.inverse()
        val pixels = tolerance.getDouble("joints_px")
        val mm = tolerance.getDouble("joints_mm")
        val crops = decoded.coords.map { CropMath.voxelToCrop(it, width, height, depth, size) }
        val cameraMm = crops.map {
            CropMath.cropToCamera(
                it, toImage, doubles(camera.getJSONArray("focal_px")), doubles(camera.getJSONArray("principal_px")),
                camera.getDouble("root_depth_mm"),
            )
        }
        for (j in crops.indices) {
            val image = toImage.apply(crops[j][0], crops[j][1])
            assertClose(expected.getJSONArray("joints_crop_px").getJSONArray(j), crops[j].copyOf(2), pixels, "crop px $j")
            assertClose(expected.getJSONArray("joints_image_px").getJSONArray(j), image, pixels, "image px $j")
            val relative = DoubleArray(3) { cameraMm[j][it] - cameraMm[skeleton.root][it] }
            assertClose(expected.getJSONArray("joints_rel_mm").getJSONArray(j), relative, mm, "rel mm $j")
        }
        if (case.has("artifact_manifest")) checkRealModel(case, dir, affine, size)
    }

    /** The real run: the artifact's manifest parses to its tensors, and packing the frame gives the model input. */
    private fun checkRealModel(case: JSONObject, dir: File, affine: Affine, size: Int) {
        val model = ModelManifest.parse(File(dir, case.getString("artifact_manifest")).readText())
        assertEquals(listOf(1, size, size, 3), model.inputShape)
        assertEquals("uint8", model.inputDtype)
        assertEquals("NHWC", model.inputLayout)
        assertTrue(model.decodesOnDevice)
        assertEquals(listOf("heatmaps"), model.outputNames)
        assertEquals(case.getJSONArray("shape").getInt(3), model.skeleton.names.size * model.depthBins)
        assertEquals(skeleton.names, model.skeleton.names)
        val camera = JSONObject(File(dir, case.getString("expected")).readText()).getJSONObject("camera")
        val imageSize = camera.getJSONArray("image_size_px")
        val packed = InputPacker.pack(
            File(dir, case.getString("image")).readBytes(), imageSize.getInt(0), imageSize.getInt(1), affine, size,
        )
        val reference = File(dir, case.getString("input")).readBytes()
        assertEquals(reference.size, packed.size)
        var worst = 0
        var sum = 0L
        for (i in packed.indices) {
            val diff = Math.abs((packed[i].toInt() and 0xFF) - (reference[i].toInt() and 0xFF))
            worst = maxOf(worst, diff)
            sum += diff
        }
        // OpenCV interpolates in fixed point (1/32 pixel): a level or two apart at most, almost never
        assertTrue(worst <= 2 && sum.toDouble() / packed.size < 0.3, "packing differs: max $worst, mean ${sum.toDouble() / packed.size}")
    }

    private fun doubles(array: JSONArray) = DoubleArray(array.length()) { array.getDouble(it) }

    private fun assertClose(expected: JSONArray, actual: Array<DoubleArray>, tol: Double, what: String) {
        assertEquals(expected.length(), actual.size, what)
        for (i in actual.indices) assertClose(expected.getJSONArray(i), actual[i], tol, "$what[$i]")
    }

    private fun assertClose(expected: JSONArray, actual: DoubleArray, tol: Double, what: String) {
        assertEquals(expected.length(), actual.size, what)
        for (i in actual.indices) {
            val e = expected.getDouble(i)
            assertTrue(Math.abs(e - actual[i]) <= tol, "$what[$i]: expected $e, got ${actual[i]} (tolerance $tol)")
        }
    }
}
