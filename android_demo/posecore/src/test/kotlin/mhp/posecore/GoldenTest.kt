package mhp.posecore

import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.Test
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
        val pixels = tolerance.getDouble("joints_px")
        val mm = tolerance.getDouble("joints_mm")
        for (j in decoded.coords.indices) {
            val crop = CropMath.voxelToCrop(decoded.coords[j], width, height, depth, size)
            assertClose(expected.getJSONArray("joints_crop_px").getJSONArray(j), crop.copyOf(2), pixels, "crop px $j")
        }
        val intrinsics = Intrinsics(doubles(camera.getJSONArray("focal_px")), doubles(camera.getJSONArray("principal_px")), "golden")
        val assembler = PoseAssembler(size, width, height, depth, skeleton.root)
        val pose = assembler.assemble(decoded, cropBox, intrinsics, camera.getDouble("root_depth_mm"))
        assertClose(expected.getJSONArray("joints_image_px"), pose.jointsImage, pixels, "image px")
        assertClose(expected.getJSONArray("joints_rel_mm"), pose.jointsRelMm, mm, "rel mm")
        val kValue = assembler.assemble(decoded, cropBox, intrinsics).rootDepthMm
        assertEquals(camera.getDouble("root_depth_k_mm"), kValue, mm, "k-value root depth")
        val fov = Intrinsics.fromFov(imageSize.getInt(0), imageSize.getInt(1))
        assertClose(camera.getJSONArray("default_focal_px"), fov.focal, 1e-9, "default focal")
        if (case.has("artifact_manifest")) checkRealModel(case, dir, affine, size)
    }

    /** The real run: the artifact's manifest parses to its tensors, and packing the frame gives the model input. */
    private fun checkRealModel(case: JSONObject, dir: File, affine: Affine, size: Int) {
        val model = ModelManifest.parse(File(dir, case.getString("artifact_manifest")).readText())
        val shape = case.getJSONArray("shape")
        val heatmaps = TensorSpec("heatmaps", List(shape.length()) { shape.getInt(it) }, "int8")
        assertEquals(TensorSpec("image", listOf(1, size, size, 3), "uint8"), model.input)
        assertEquals("NHWC", model.inputLayout)
        assertTrue(model.decodesOnDevice)
        assertEquals(listOf(heatmaps), model.outputs)
        assertEquals(shape.getInt(3), model.skeleton.names.size * model.depthBins)
        assertEquals(skeleton.names, model.skeleton.names)
        assertEquals(null, model.mismatch(listOf(model.input), listOf(heatmaps)))
        val wrong = heatmaps.copy(shape = listOf(1, 8, 8, shape.getInt(3)))
        assertEquals(
            "tensor 'heatmaps' is 1x8x8x${shape.getInt(3)} int8 in the model, ${heatmaps.shape.joinToString("x")} int8 in the manifest",
            model.mismatch(listOf(model.input), listOf(wrong)),
        )
        assertTrue(model.mismatch(listOf(model.input.copy(name = "input_1")), listOf(heatmaps))!!.startsWith("the model has no tensor 'image'"))
        // the run-time checks an app makes pass on the exported model: the file's sha256 (Python's hashlib) and the
        // input quantisation LiteRT reported for it; another file is refused
        val quant = case.getJSONArray("input_quantization")
        val fileSha = case.getString("artifact_sha256")
        assertEquals(64, model.artifactSha256!!.length)
        model.checkArtifact(fileSha, quant.getDouble(0), quant.getInt(1))
        val other = (if (fileSha[0] == '0') "1" else "0") + fileSha.drop(1)
        assertThrows(IllegalArgumentException::class.java) { model.checkArtifact(other, quant.getDouble(0), quant.getInt(1)) }
        val camera = JSONObject(File(dir, case.getString("expected")).readText()).getJSONObject("camera")
        val imageSize = camera.getJSONArray("image_size_px")
        val frame = PixelBuffer(File(dir, case.getString("image")).readBytes(), imageSize.getInt(0), imageSize.getInt(1))
        val packed = InputPacker.pack(frame, affine, size)
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

    /** The tracker replays Python's: the same box after every frame, and a reset where Python reset. */
    @Test
    fun boxTrackerFollowsThePythonTrack() {
        val track = JSONObject(File(folder, manifest.getString("tracking")).readText())
        val size = track.getJSONArray("image_size_px")
        val tracker = BoxTracker(size.getInt(0), size.getInt(1), track.getDouble("min_confidence"))
        val steps = track.getJSONArray("steps")
        assertClose(steps.getJSONObject(0).getJSONArray("box_before_xywh_px"), tracker.box, 1e-9, "first box")
        for (i in 0 until steps.length() - 1) {
            val step = steps.getJSONObject(i)
            val joints = step.getJSONArray("joints_img_px").let { a -> Array(a.length()) { doubles(a.getJSONArray(it)) } }
            val reset = tracker.update(joints, doubles(step.getJSONArray("confidence")))
            val after = steps.getJSONObject(i + 1)
            assertEquals(after.getBoolean("reset"), reset, "reset after step $i")
            assertClose(after.getJSONArray("box_before_xywh_px"), tracker.box, 1e-9, "box after step $i")
        }
        assertEquals(2, tracker.resets)
    }
}
