package mhp.posecore

import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
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
        assertArrayEquals(centred, first.pose!!.cropBox, 1e-12)
        val expected = InputPacker.pack(buffer, Orientation.bufferToUpright(64, 48, 90).then(CropMath.cropAffine(centred, 32)), 32)
        assertArrayEquals(expected, model.inputs[0])
        val reference = PoseAssembler(manifest).assemble(model.decode(), centred, intrinsics(48, 64))
        assertArrayEquals(reference.jointsImage[1], first.pose.jointsImage[1], 1e-12)
        assertEquals(1.0, first.times.packMs, 1e-12)
        assertEquals(1.0, first.times.inferenceMs, 1e-12)
        assertEquals(3.0, first.times.totalMs, 1e-12)
        assertFalse(first.trackLost)
        assertTrue(first.person) // without a detector a pose is always shown
        assertEquals(null, first.trackId)
        assertFalse(first.detectorRan)

        val second = pipeline.process(buffer, 90, 33_000_000)
        val tracked = CropMath.processBox(Boxes.fromJoints(first.pose.jointsImage), 48, 64)!!
        assertArrayEquals(tracked, second.pose!!.cropBox, 1e-12)
        assertEquals(200.0, second.fps, 1e-9) // one frame every 5 clock readings of 1 ms

        model.confidence = 0.01
        assertTrue(pipeline.process(buffer, 90, 66_000_000).trackLost)
        model.confidence = 0.5
        assertArrayEquals(centred, pipeline.process(buffer, 90, 99_000_000).pose!!.cropBox, 1e-12)
        val unturned = pipeline.process(buffer, 0, 132_000_000) // a new orientation starts a new track
        assertEquals(64, unturned.uprightWidth)
        assertArrayEquals(CropMath.processBox(Boxes.centred(64, 48), 64, 48)!!, unturned.pose!!.cropBox, 1e-12)
    }

    /** A model that answers the same joints (voxels) until told others. */
    private class PlacedModel(var coords: Array<DoubleArray>) : ModelRunner {
        override fun run(input: ByteArray) {}
        override fun decode() = Decoded(coords.map { it.copyOf() }.toTypedArray(), DoubleArray(coords.size) { 0.5 })
        override fun close() {}
    }

    @Test
    fun anUnusableTrackedBoxFallsBackToTheExpandedCentredCrop() {
        val centred = CropMath.centredCrop(64, 48)
        assertArrayEquals(CropMath.processBox(Boxes.centred(64, 48), 64, 48)!!, centred, 0.0)
        val edge = CropMath.cropAffine(centred, 32).apply(64.0, 24.0).map { it / 4 } // crop px -> voxels (32 / 8)
        val model = PlacedModel(Array(2) { doubleArrayOf(edge[0], edge[1], 16.0) })
        val pipeline = FramePipeline(manifest, model, intrinsics, smoothing = null)
        val first = pipeline.process(buffer, 0, 0)
        assertArrayEquals(centred, first.pose!!.cropBox, 1e-12)
        assertEquals(64.0, first.pose.jointsImage[0][0], 1e-9)
        // the joints' box (x 63.4-64.6) touches the frame but has nothing to crop: the centred box's crop, x 1.25
        val second = pipeline.process(buffer, 0, 33_000_000)
        assertFalse(second.trackLost)
        assertArrayEquals(centred, second.pose!!.cropBox, 1e-12)
        assertTrue(second.pose.cropBox[2] > Boxes.centred(64, 48)[2] * 1.2) // not the bare centred box
        // a model answering NaN: a pose of NaN, the track lost, and the next frame cut from the centred crop
        model.coords = Array(2) { doubleArrayOf(Double.NaN, Double.NaN, Double.NaN) }
        val broken = pipeline.process(buffer, 0, 66_000_000)
        assertTrue(broken.trackLost)
        assertTrue(broken.pose!!.jointsImage[0][0].isNaN())
        assertArrayEquals(centred, pipeline.process(buffer, 0, 99_000_000).pose!!.cropBox, 1e-12)
    }

    /** A detector that records its inputs and answers fixed raw outputs. */
    private class FakeDetector(var output: DetectorOutput) : DetectorRunner {
        val inputs = mutableListOf<FloatArray>()
        override fun run(input: FloatArray): DetectorOutput {
            inputs += input
            return output
        }
    }

    /** Raw outputs with nobody, or one person at the input's centre (stride 8, cell (14, 14)). */
    private fun rawOutputs(person: Boolean): DetectorOutput {
        val boxes = FloatArray(2254 * 12)
        val scores = FloatArray(2254) { -30f }
        if (person) {
            val k = 28 * 2 * 14 + 2 * 14
            scores[k] = 3f
            floatArrayOf(0f, -20f, 30f, 30f, 0f, 10f, 0f, -60f, 0f, 0f, 0f, -30f).copyInto(boxes, k * 12)
        }
        return DetectorOutput(boxes, scores)
    }

    @Test
    fun theDetectorFindsThePersonTheModelIsCutFrom() {
        val model = FakeModel(0.5)
        val detector = FakeDetector(rawOutputs(person = true))
        var now = 0L
        val pipeline = FramePipeline(manifest, model, intrinsics, smoothing = null, detector = detector) { now.also { now += 1_000_000 } }
        val first = pipeline.process(buffer, 90, 0)
        assertTrue(first.person)
        assertTrue(first.detectorRan)
        assertEquals(0, first.trackId)
        assertArrayEquals(BlazePose.pack(buffer, 90), detector.inputs[0]) // the upright frame letterboxed
        val found = BlazePose.detections(rawOutputs(person = true), 48, 64)
        assertEquals(1, found.size)
        assertArrayEquals(found[0].box, first.detections[0].box, 0.0)
        val cropBox = CropMath.processBox(found[0].cropBox, 48, 64)!!
        assertArrayEquals(cropBox, first.pose!!.cropBox, 1e-12)
        assertArrayEquals(InputPacker.pack(buffer, Orientation.bufferToUpright(64, 48, 90).then(CropMath.cropAffine(cropBox, 32)), 32), model.inputs[0])
        assertEquals(1.0, first.times.detectMs, 1e-12)
        assertEquals(4.0, first.times.totalMs, 1e-12)
        assertFalse(first.trackLost)

        val second = pipeline.process(buffer, 90, 33_000_000) // a confident pose is followed without the detector
        assertFalse(second.detectorRan)
        assertEquals(1, detector.inputs.size)
        assertTrue(second.detections.isEmpty())
        assertArrayEquals(CropMath.processBox(Boxes.fromJoints(first.pose.jointsImage), 48, 64)!!, second.pose!!.cropBox, 1e-12)
        for (t in 2 until 10) pipeline.process(buffer, 90, t * 33_000_000L)
        assertEquals(1, detector.inputs.size)
        assertTrue(pipeline.process(buffer, 90, 330_000_000).detectorRan) // every 10 frames
        assertTrue(pipeline.process(buffer, 0, 363_000_000).detectorRan) // a turned camera starts again
        assertEquals(3, detector.inputs.size)
    }

    @Test
    fun nobodyThereMeansNoPoseAndNoModelRun() {
        val model = FakeModel(0.5)
        val detector = FakeDetector(rawOutputs(person = false))
        val pipeline = FramePipeline(manifest, model, intrinsics, detector = detector)
        for (t in 0 until 3) {
            val result = pipeline.process(buffer, 90, t * 33_000_000L)
            assertFalse(result.person)
            assertNull(result.pose)
            assertNull(result.trackId)
            assertTrue(result.detectorRan) // nobody tracked: the detector runs on every frame
            assertEquals(0.0, result.times.inferenceMs, 0.0)
        }
        assertEquals(3, detector.inputs.size)
        assertTrue(model.inputs.isEmpty())
    }

    @Test
    fun anUnsurePoseIsShownOnlyWhenTheDetectorFoundItThisFrame() {
        val model = FakeModel(0.01)
        val detector = FakeDetector(rawOutputs(person = true))
        val pipeline = FramePipeline(manifest, model, intrinsics, detector = detector)
        val first = pipeline.process(buffer, 90, 0)
        assertTrue(first.person && first.trackLost)
        val again = pipeline.process(buffer, 90, 33_000_000) // the lost track runs the detector, which finds it again
        assertTrue(again.detectorRan && again.person && again.trackLost)
        assertEquals(0, again.trackId)
        detector.output = rawOutputs(person = false)
        val gone = pipeline.process(buffer, 90, 66_000_000)
        assertTrue(gone.detectorRan)
        assertFalse(gone.person)
        assertEquals(2, model.inputs.size) // the lost track is not cut
        model.confidence = 0.5
        detector.output = rawOutputs(person = true)
        val back = pipeline.process(buffer, 90, 99_000_000)
        assertTrue(back.person)
        assertFalse(back.trackLost)
        assertEquals(0, back.trackId) // missed once: the same track
        assertFalse(pipeline.process(buffer, 90, 132_000_000).detectorRan)
    }

    @Test
    fun smoothingDampsDepthJitter() {
        fun spread(smoothing: OneEuroFilter?): Double {
            val pipeline = FramePipeline(manifest, FakeModel(0.5, jitter = 2.0), intrinsics, smoothing)
            val depths = (0 until 60).map { pipeline.process(buffer, 0, it * 33_000_000L).pose!!.jointsRelMm[1][2] }.drop(30)
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
