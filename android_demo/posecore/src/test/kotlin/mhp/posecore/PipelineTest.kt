package mhp.posecore

import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import kotlin.random.Random

class PipelineTest {
    private val manifest = ModelManifest.parse(BenchReportTest.MANIFEST.replace("128", "32").replace("[16, 16]", "[8, 8]").replace("16, 16, 64", "8, 8, 64"))

    /** A model that records its inputs and answers two joints at fixed voxels with a given confidence. */
    private class FakeModel(var confidence: Double, private val jitter: Double = 0.0) : ModelRunner {
        val inputs = mutableListOf<ByteArray>()
        override fun run(input: ByteArray) {
            inputs += input
        }
        override fun decode(): Decoded {
            val shake = if (inputs.size % 2 == 0) jitter else -jitter
            return Decoded(arrayOf(doubleArrayOf(2.0, 1.0, 16.0), doubleArrayOf(5.0, 6.0, 20.0 + shake)), doubleArrayOf(confidence, confidence))
        }
        override fun close() {}
    }

    private val buffer = PixelBuffer(Random(3).nextBytes(64 * 48 * 4), 64, 48, pixelStride = 4) // landscape sensor, RGBA
    private val intrinsics = { w: Int, h: Int -> Intrinsics.fromFov(w, h) }

    @Test
    fun framesAreCutThroughTheRotationAndTheTrackFollowsThePose() {
        val model = FakeModel(0.5)
        var now = 0L
        val pipeline = FramePipeline(manifest, model, intrinsics, smoothing = null) { now.also { now += 1_000_000 } }
        val first = pipeline.process(buffer, 90, 0)
        assertEquals(48, first.uprightWidth)
        assertEquals(64, first.uprightHeight)
        val centred = CropMath.processBox(Boxes.centred(48, 64), 48, 64)!!
        assertArrayEquals(centred, first.pose.cropBox, 1e-12)
        val expected = InputPacker.pack(buffer, Orientation.bufferToUpright(64, 48, 90).then(CropMath.cropAffine(centred, 32)), 32)
        assertArrayEquals(expected, model.inputs[0])
        val reference = PoseAssembler(manifest).assemble(model.decode(), centred, intrinsics(48, 64))
        assertArrayEquals(reference.jointsImage[1], first.pose.jointsImage[1], 1e-12)
        assertEquals(1.0, first.times.packMs, 1e-12)
        assertEquals(1.0, first.times.inferenceMs, 1e-12)
        assertEquals(3.0, first.times.totalMs, 1e-12)
        assertFalse(first.trackLost)

        val second = pipeline.process(buffer, 90, 33_000_000)
        val tracked = CropMath.processBox(Boxes.fromJoints(first.pose.jointsImage), 48, 64)!!
        assertArrayEquals(tracked, second.pose.cropBox, 1e-12)
        assertEquals(200.0, second.fps, 1e-9) // one frame every 5 clock readings of 1 ms

        model.confidence = 0.01
        assertTrue(pipeline.process(buffer, 90, 66_000_000).trackLost)
        model.confidence = 0.5
        assertArrayEquals(centred, pipeline.process(buffer, 90, 99_000_000).pose.cropBox, 1e-12)
        val unturned = pipeline.process(buffer, 0, 132_000_000) // a new orientation starts a new track
        assertEquals(64, unturned.uprightWidth)
        assertArrayEquals(CropMath.processBox(Boxes.centred(64, 48), 64, 48)!!, unturned.pose.cropBox, 1e-12)
    }

    @Test
    fun smoothingDampsDepthJitter() {
        fun spread(smoothing: OneEuroFilter?): Double {
            val pipeline = FramePipeline(manifest, FakeModel(0.5, jitter = 2.0), intrinsics, smoothing)
            val depths = (0 until 60).map { pipeline.process(buffer, 0, it * 33_000_000L).pose.jointsRelMm[1][2] }.drop(30)
            return depths.max() - depths.min()
        }
        val raw = spread(null)
        assertEquals(4 * 2000.0 / 32, raw, 1e-6) // +-2 bins of 62.5 mm
        assertTrue(spread(OneEuroFilter(minCutoff = 1.0, beta = 0.0)) < raw / 3)
    }

    @Test
    fun aModelThatIsNotUint8NhwcIsRefused() {
        val float = ModelManifest.parse(BenchReportTest.MANIFEST.replace("\"uint8\"", "\"float32\""))
        val error = assertThrows(IllegalArgumentException::class.java) { FramePipeline(float, FakeModel(0.5), intrinsics) }
        assertEquals("the model takes NHWC float32; the app packs NHWC uint8 (export with mhp-export)", error.message)
    }

    @Test
    fun benchLoopTimesOnlyTheTimedRuns() {
        var calls = 0
        var now = 0L
        val times = BenchLoop.time(3, 4, { now }) {
            calls += 1
            now += calls * 1_000_000L
        }
        assertEquals(7, calls)
        assertArrayEquals(doubleArrayOf(4.0, 5.0, 6.0, 7.0), times, 1e-12)
        assertThrows(IllegalArgumentException::class.java) { BenchLoop.time(0, 0) {} }
    }
}
