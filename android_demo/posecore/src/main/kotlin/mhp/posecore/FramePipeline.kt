package mhp.posecore

/** A model as the pipeline sees it: [run] feeds a packed input (copy in, invoke, copy out); [decode] turns the outputs into voxels. */
interface ModelRunner : AutoCloseable {
    fun run(input: ByteArray)
    fun decode(): Decoded
}

/** Milliseconds of the three stages of one frame: crop + pack, model run, decode + geometry. */
class StageTimes(val packMs: Double, val inferenceMs: Double, val decodeMs: Double) {
    val totalMs: Double get() = packMs + inferenceMs + decodeMs
}

/** One processed camera frame: the pose (smoothed when asked), the upright frame size, timings, FPS, track state. */
class FrameResult(val pose: Pose, val uprightWidth: Int, val uprightHeight: Int, val times: StageTimes, val fps: Double, val trackLost: Boolean)

/**
 * Everything the apps do per camera frame, platform-free: the tracked person box, the crop cut through the camera's
 * rotation, the model, the decode to frame pixels and millimetres, the box update, One-Euro smoothing and the FPS.
 */
class FramePipeline(
    private val manifest: ModelManifest,
    private val model: ModelRunner,
    private val intrinsicsFor: (Int, Int) -> Intrinsics,
    private val smoothing: OneEuroFilter? = OneEuroFilter(),
    private val clock: () -> Long = System::nanoTime,
) {
    private val assembler = PoseAssembler(manifest)
    private val fps = FpsMeter(clock = clock)
    private var tracker: BoxTracker? = null
    private var trackedSize = intArrayOf(0, 0)

    init {
        require(manifest.input.dtype == "uint8" && manifest.inputLayout == "NHWC") {
            "the model takes ${manifest.inputLayout} ${manifest.input.dtype}; the app packs NHWC uint8 (export with mhp-export)"
        }
    }

    /** [timestampNs]: the frame's capture time, which drives the smoothing. */
    fun process(frame: PixelBuffer, rotationDegrees: Int, timestampNs: Long): FrameResult {
        val start = clock()
        val size = Orientation.uprightSize(frame.width, frame.height, rotationDegrees)
        val track = trackerFor(size)
        val cropBox = CropMath.processBox(track.box, size[0], size[1]) ?: Boxes.centred(size[0], size[1])
        val toCrop = Orientation.bufferToUpright(frame.width, frame.height, rotationDegrees).then(CropMath.cropAffine(cropBox, manifest.inputSize))
        val input = InputPacker.pack(frame, toCrop, manifest.inputSize)
        val packed = clock()
        model.run(input)
        val ran = clock()
        val raw = assembler.assemble(model.decode(), cropBox, intrinsicsFor(size[0], size[1]))
        val lost = track.update(raw.jointsImage, raw.confidence)
        if (lost) smoothing?.reset()
        val pose = smoothing?.let { smooth(raw, it, timestampNs / 1e9) } ?: raw
        val done = clock()
        val times = StageTimes((packed - start) / 1e6, (ran - packed) / 1e6, (done - ran) / 1e6)
        return FrameResult(pose, size[0], size[1], times, fps.tick(), lost)
    }

    private fun trackerFor(size: IntArray): BoxTracker {
        val current = tracker
        if (current != null && size.contentEquals(trackedSize)) return current
        trackedSize = size
        smoothing?.reset()
        return BoxTracker(size[0], size[1]).also { tracker = it }
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
