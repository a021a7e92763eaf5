package mhp.posecore

/** A model as the pipeline sees it: [run] feeds a packed input (copy in, invoke, copy out); [decode] turns the outputs into voxels. */
interface ModelRunner : AutoCloseable {
    fun run(input: ByteArray)
    fun decode(): Decoded
}

/** Milliseconds of the stages of one frame: crop + pack, model run, decode + geometry, and the person detector (letterbox, run, post-processing; 0 without one). */
class StageTimes(val packMs: Double, val inferenceMs: Double, val decodeMs: Double, val detectMs: Double = 0.0) {
    val totalMs: Double get() = packMs + inferenceMs + decodeMs + detectMs
}

/**
 * One processed camera frame: the [pose] (smoothed when asked; null when nobody is shown), the upright frame size,
 * timings, FPS and the track state. With a detector: [trackId] is the shown person's track, [detectorRan] whether the
 * detector ran on this frame and [detections] what it found then (upright frame pixels, best first).
 */
class FrameResult(
    val pose: Pose?,
    val uprightWidth: Int,
    val uprightHeight: Int,
    val times: StageTimes,
    val fps: Double,
    val trackLost: Boolean,
    val trackId: Int? = null,
    val detectorRan: Boolean = false,
    val detections: List<Detection> = emptyList(),
) {
    /** Whether a person is shown; false: the app shows "no person" and draws no skeleton. */
    val person: Boolean get() = pose != null
}

/**
 * Everything the apps do per camera frame, platform-free: the person box, the crop cut through the camera's rotation,
 * the model, the decode to frame pixels and millimetres, the box update, One-Euro smoothing and the FPS.
 *
 * Without a [detector] one person is tracked from a centred box (BoxTracker) and a pose is always shown. With one,
 * [Tracks] runs it when due (first frame, every 10 frames, after a lost track) on [BlazePose.pack]'s input; the pose
 * model runs for the tracked person with the lowest id, and not at all when nobody is tracked; a pose is shown when
 * it is confident or the detector found its person in this frame.
 */
class FramePipeline(
    private val manifest: ModelManifest,
    private val model: ModelRunner,
    private val intrinsicsFor: (Int, Int) -> Intrinsics,
    private val smoothing: OneEuroFilter? = OneEuroFilter(),
    private val detector: DetectorRunner? = null,
    private val clock: () -> Long = System::nanoTime,
) {
    private val assembler = PoseAssembler(manifest)
    private val fps = FpsMeter(clock = clock)
    private var tracker: BoxTracker? = null
    private var tracks: Tracks? = null
    private var trackedSize = intArrayOf(0, 0)
    private var frameIndex = 0
    private var shownId: Int? = null

    init {
        require(manifest.input.dtype == "uint8" && manifest.inputLayout == "NHWC") {
            "the model takes ${manifest.inputLayout} ${manifest.input.dtype}; the app packs NHWC uint8 (export with mhp-export)"
        }
    }

    /** [timestampNs]: the frame's capture time, which drives the smoothing. */
    fun process(frame: PixelBuffer, rotationDegrees: Int, timestampNs: Long): FrameResult {
        val start = clock()
        val size = Orientation.uprightSize(frame.width, frame.height, rotationDegrees)
        val people = detector ?: return processOne(frame, rotationDegrees, timestampNs, size, start)
        val tracks = tracksFor(size)
        var ran = false
        var found = emptyList<Detection>()
        val cut = tracks.boxes(frameIndex++) {
            ran = true
            found = BlazePose.detections(people.run(BlazePose.pack(frame, rotationDegrees)), size[0], size[1])
            found.map { it.cropBox }
        }
        val detected = clock()
        val chosen = cut.firstNotNullOfOrNull { (id, box) -> CropMath.processBox(box, size[0], size[1])?.let { id to it } }
        if (chosen == null) {
            forgetShown()
            return FrameResult(null, size[0], size[1], StageTimes(0.0, 0.0, 0.0, (detected - start) / 1e6), fps.tick(), false, null, ran, found)
        }
        val (id, cropBox) = chosen
        if (id != shownId) smoothing?.reset()
        shownId = id
        val (raw, packed, done) = estimate(frame, rotationDegrees, size, cropBox)
        val written = tracks.follow(id, raw.jointsImage, raw.confidence)
        val lost = tracks.tracks.first { it.id == id }.lost
        if (!written) forgetShown() // smoothing starts again when the person is shown again
        val pose = if (written) smoothing?.let { smooth(raw, it, timestampNs / 1e9) } ?: raw else null
        val end = clock()
        val times = StageTimes((packed - detected) / 1e6, (done - packed) / 1e6, (end - done) / 1e6, (detected - start) / 1e6)
        return FrameResult(pose, size[0], size[1], times, fps.tick(), lost, id, ran, found)
    }

    /** One person without a detector: the BoxTracker's box, reset to the centred box when the pose is lost. */
    private fun processOne(frame: PixelBuffer, rotationDegrees: Int, timestampNs: Long, size: IntArray, start: Long): FrameResult {
        val track = trackerFor(size)
        // an unusable box (NaN, infinite, empty, outside the frame) is cut like the centred box: processed, x 1.25
        val cropBox = CropMath.processBox(track.box, size[0], size[1]) ?: CropMath.centredCrop(size[0], size[1])
        val (raw, packed, ran) = estimate(frame, rotationDegrees, size, cropBox)
        val lost = track.update(raw.jointsImage, raw.confidence)
        if (lost) smoothing?.reset()
        val pose = smoothing?.let { smooth(raw, it, timestampNs / 1e9) } ?: raw
        val done = clock()
        val times = StageTimes((packed - start) / 1e6, (ran - packed) / 1e6, (done - ran) / 1e6)
        return FrameResult(pose, size[0], size[1], times, fps.tick(), lost)
    }

    /** The pose model on the crop of [cropBox]: the raw pose, and the clock after packing and after the run. */
    private fun estimate(frame: PixelBuffer, rotationDegrees: Int, size: IntArray, cropBox: DoubleArray): Triple<Pose, Long, Long> {
        val toCrop = Orientation.bufferToUpright(frame.width, frame.height, rotationDegrees).then(CropMath.cropAffine(cropBox, manifest.inputSize))
        val input = InputPacker.pack(frame, toCrop, manifest.inputSize)
        val packed = clock()
        model.run(input)
        val ran = clock()
        return Triple(assembler.assemble(model.decode(), cropBox, intrinsicsFor(size[0], size[1])), packed, ran)
    }

    private fun forgetShown() {
        smoothing?.reset()
        shownId = null
    }

    private fun trackerFor(size: IntArray): BoxTracker {
        val current = tracker
        if (current != null && size.contentEquals(trackedSize)) return current
        trackedSize = size
        smoothing?.reset()
        return BoxTracker(size[0], size[1]).also { tracker = it }
    }

    /** A new frame size (a turned camera) starts new tracks: frame 0 runs the detector. */
    private fun tracksFor(size: IntArray): Tracks {
        val current = tracks
        if (current != null && size.contentEquals(trackedSize)) return current
        trackedSize = size
        frameIndex = 0
        forgetShown()
        return Tracks(size[0], size[1]).also { tracks = it }
    }

    /** Joints in pixels and millimetres are filtered together, one vector per frame. */
    private fun smooth(pose: Pose, filter: OneEuroFilter, seconds: Double): Pose {
        val joints = pose.jointsImage.size
        val flat = DoubleArray(joints * 5)
        for (j in 0 until joints) {
            pose.jointsImage[j].copyInto(flat, j * 5)
            pose.jointsRelMm[j].copyInto(flat, j * 5 + 2)
        }
        val out = filter.filter(flat, seconds)
        return Pose(
            Array(joints) { out.copyOfRange(it * 5, it * 5 + 2) },
            pose.confidence,
            Array(joints) { out.copyOfRange(it * 5 + 2, it * 5 + 5) },
            pose.rootDepthMm,
            pose.cropBox,
        )
    }
}

/** Times [block] [runs] times after [warmup] untimed calls; milliseconds per call, clock injected (nanoseconds). */
object BenchLoop {
    fun time(warmup: Int, runs: Int, clock: () -> Long = System::nanoTime, block: () -> Unit): DoubleArray {
        require(warmup >= 0 && runs > 0) { "warmup $warmup and runs $runs: need warmup >= 0 and runs > 0" }
        repeat(warmup) { block() }
        return DoubleArray(runs) {
            val start = clock()
            block()
            (clock() - start) / 1e6
        }
    }
}
