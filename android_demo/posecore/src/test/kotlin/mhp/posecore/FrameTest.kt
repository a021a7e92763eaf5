package mhp.posecore

import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import kotlin.random.Random

class FrameTest {
    private val width = 40
    private val height = 30
    private val rgb = Random(7).nextBytes(width * height * 3)

    /** The frame turned clockwise by [degrees], pixel by pixel (what the upright camera image looks like). */
    private fun turned(degrees: Int): PixelBuffer {
        val size = Orientation.uprightSize(width, height, degrees)
        val out = ByteArray(size[0] * size[1] * 3)
        val toUpright = Orientation.bufferToUpright(width, height, degrees)
        for (y in 0 until height) for (x in 0 until width) {
            val p = toUpright.apply(x.toDouble(), y.toDouble())
            val u = Math.round(p[0]).toInt()
            val v = Math.round(p[1]).toInt()
            for (c in 0 until 3) out[(v * size[0] + u) * 3 + c] = rgb[(y * width + x) * 3 + c]
        }
        return PixelBuffer(out, size[0], size[1])
    }

    @Test
    fun packingThroughTheTurnEqualsPackingTheTurnedFrame() {
        val whole = CropMath.cropAffine(doubleArrayOf(0.0, 0.0, 30.0, 30.0), 30) // pixel centres onto pixel centres
        assertArrayEquals(turned(90).bytes.copyOf(30 * 30 * 3), InputPacker.pack(PixelBuffer(rgb, width, height), Orientation.bufferToUpright(width, height, 90).then(whole), 30))
        for (degrees in listOf(0, 90, 180, 270, -90)) {
            val upright = turned(degrees)
            val crop = CropMath.cropAffine(doubleArrayOf(3.5, 2.0, 21.0, 21.0), 16)
            val direct = InputPacker.pack(upright, crop, 16)
            val throughTurn = InputPacker.pack(PixelBuffer(rgb, width, height), Orientation.bufferToUpright(width, height, degrees).then(crop), 16)
            // the same bilinear sums in another order: exact .5 ties (1/16-pixel steps here) may round one level apart
            val diffs = direct.indices.map { Math.abs((direct[it].toInt() and 0xFF) - (throughTurn[it].toInt() and 0xFF)) }
            assertTrue(diffs.max() <= 1 && diffs.count { it > 0 } < direct.size / 20, "rotation $degrees: ${diffs.count { it > 0 }} values differ")
        }
        assertArrayEquals(intArrayOf(30, 40), Orientation.uprightSize(width, height, 270))
        assertThrows(IllegalArgumentException::class.java) { Orientation.bufferToUpright(width, height, 45) }
    }

    @Test
    fun turnsMapCornersToCorners() {
        val quarter = Orientation.bufferToUpright(width, height, 90)
        assertArrayEquals(doubleArrayOf(height - 1.0, 0.0), quarter.apply(0.0, 0.0), 1e-12) // top-left goes top-right
        assertArrayEquals(doubleArrayOf(0.0, width - 1.0), quarter.apply(width - 1.0, height - 1.0), 1e-12)
    }

    @Test
    fun rgbaWithPaddedRowsPacksLikeRgb() {
        val rowStride = width * 4 + 12
        val rgba = ByteArray(rowStride * height) { 0x5A }
        for (y in 0 until height) for (x in 0 until width) for (c in 0 until 3) rgba[y * rowStride + x * 4 + c] = rgb[(y * width + x) * 3 + c]
        val crop = CropMath.cropAffine(CropMath.processBox(doubleArrayOf(5.0, 4.0, 20.0, 24.0), width, height)!!, 24)
        val expected = InputPacker.pack(PixelBuffer(rgb, width, height), crop, 24)
        assertArrayEquals(expected, InputPacker.pack(PixelBuffer(rgba, width, height, pixelStride = 4, rowStride = rowStride), crop, 24))
        assertThrows(IllegalArgumentException::class.java) { PixelBuffer(ByteArray(10), width, height) }
    }

    @Test
    fun affineThenComposesInOrder() {
        val scale = Affine(doubleArrayOf(2.0, 0.0, 0.0, 0.0, 2.0, 0.0))
        val shift = Affine(doubleArrayOf(1.0, 0.0, 5.0, 0.0, 1.0, -1.0))
        assertArrayEquals(doubleArrayOf(7.0, 5.0), scale.then(shift).apply(1.0, 3.0), 1e-12)
        assertArrayEquals(doubleArrayOf(12.0, 4.0), shift.then(scale).apply(1.0, 3.0), 1e-12)
        val round = shift.then(scale).then(shift.then(scale).inverse())
        assertArrayEquals(doubleArrayOf(1.0, 3.0), round.apply(1.0, 3.0), 1e-12)
    }

    @Test
    fun viewFitFillsCentresAndMirrors() {
        // a 480x640 portrait frame shown in a 1080x1920 view: scale 3 (height), 180 px cut on each side
        val fit = ViewFit(480, 640, 1080, 1920, mirrored = false)
        assertArrayEquals(doubleArrayOf(-180.0, 0.0), fit.map(0.0, 0.0), 1e-9)
        assertArrayEquals(doubleArrayOf(540.0, 960.0), fit.map(240.0, 320.0), 1e-9)
        val mirror = ViewFit(480, 640, 1080, 1920, mirrored = true)
        assertArrayEquals(doubleArrayOf(1080.0 + 180.0, 0.0), mirror.map(0.0, 0.0), 1e-9)
        assertEquals(540.0, mirror.map(240.0, 320.0)[0], 1e-9)
    }

    @Test
    fun lensIntrinsicsUseTheLongSide() {
        val lens = Intrinsics.fromLens(480, 640, 4.0, 6.4)
        assertArrayEquals(doubleArrayOf(400.0, 400.0), lens.focal, 1e-9)
        assertArrayEquals(doubleArrayOf(240.0, 320.0), lens.principal, 1e-9)
        assertThrows(IllegalArgumentException::class.java) { Intrinsics.fromFov(640, 480, 0.5) }
    }

    @Test
    fun degenerateBoxesAreRefusedAndPackBlack() {
        val nan = Double.NaN
        val inf = Double.POSITIVE_INFINITY
        val bad = listOf(
            doubleArrayOf(nan, 10.0, 50.0, 80.0), doubleArrayOf(10.0, 10.0, inf, 80.0), doubleArrayOf(10.0, -inf, 50.0, 80.0),
            doubleArrayOf(10.0, 10.0, 0.0, 80.0), doubleArrayOf(10.0, 10.0, 50.0, -3.0), doubleArrayOf(700.0, 10.0, 50.0, 80.0),
        )
        for (box in bad) assertEquals(null, CropMath.processBox(box, 640, 480), box.joinToString())
        // the fallback is the centred box's crop: widened to a square and expanded x 1.25, like any processed box
        val centred = CropMath.centredCrop(480, 640)
        assertArrayEquals(CropMath.processBox(Boxes.centred(480, 640), 480, 640), centred, 0.0)
        assertEquals((0.8 * 480 - 1) * CropMath.EXPANSION, centred[2], 1e-9)
        assertEquals(239.5, centred[0] + centred[2] / 2, 1e-9) // the centre of pixels 0..479
        assertEquals(319.5, centred[1] + centred[3] / 2, 1e-9)
        // a NaN or empty crop box packs a black input instead of reading garbage (Swift's Int(floor(.nan)) traps)
        val frame = PixelBuffer(ByteArray(48 * 64 * 3) { 100 }, 48, 64)
        for (box in listOf(doubleArrayOf(nan, 0.0, 10.0, 10.0), doubleArrayOf(5.0, 5.0, 0.0, 0.0), doubleArrayOf(0.0, 0.0, inf, inf))) {
            val packed = InputPacker.pack(frame, CropMath.cropAffine(box, 16), 16)
            assertTrue(packed.all { it.toInt() == 0 }, box.joinToString())
        }
        val far = Affine(doubleArrayOf(1.0, 0.0, -1e300, 0.0, 1.0, 1e300)) // finite but far beyond Int's range
        assertTrue(InputPacker.pack(frame, far, 8).all { it.toInt() == 0 })
        assertTrue(InputPacker.pack(frame, Affine(doubleArrayOf(1.0, 0.0, 0.0, 0.0, 1.0, 0.0)), 8).all { it.toInt() == 100 })
    }

    @Test
    fun fallbackFovSpansTheLongSideInPortraitAndLandscape() {
        // 65 degrees across the long side (as mhp.infer.camera.default_intrinsics): one camera, one focal length
        val expected = 320.0 / Math.tan(Math.toRadians(32.5))
        val landscape = Intrinsics.fromFov(640, 480)
        val portrait = Intrinsics.fromFov(480, 640)
        assertArrayEquals(doubleArrayOf(expected, expected), landscape.focal, 1e-9)
        assertArrayEquals(doubleArrayOf(expected, expected), portrait.focal, 1e-9)
        assertArrayEquals(doubleArrayOf(240.0, 320.0), portrait.principal, 1e-9)
        assertArrayEquals(doubleArrayOf(150.0, 150.0), Intrinsics.fromFov(300, 300, 90.0).focal, 1e-9)
    }

    @Test
    fun inGraphOutputsBecomeDecodedJoints() {
        val decoded = Decoded.fromFlat(floatArrayOf(1f, 2f, 3f, 4f, 5f, 6f), floatArrayOf(0.5f, 0.25f))
        assertArrayEquals(doubleArrayOf(4.0, 5.0, 6.0), decoded.coords[1], 0.0)
        assertArrayEquals(doubleArrayOf(0.5, 0.25), decoded.confidence, 0.0)
        assertThrows(IllegalArgumentException::class.java) { Decoded.fromFlat(FloatArray(5), FloatArray(2)) }
    }
}
