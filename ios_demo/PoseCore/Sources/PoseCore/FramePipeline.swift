import Foundation

/// A model as the pipeline sees it: `run` feeds a packed input (copy in, invoke); `decode` turns the outputs into voxels.
public protocol ModelRunner: AnyObject {
    func run(_ input: [UInt8]) throws
    func decode() throws -> Decoded
}

/// Milliseconds of the three stages of one frame: crop + pack, model run, decode + geometry.
public struct StageTimes {
    public let packMs: Double
    public let inferenceMs: Double
    public let decodeMs: Double

    public init(packMs: Double, inferenceMs: Double, decodeMs: Double) {
        self.packMs = packMs
        self.inferenceMs = inferenceMs
        self.decodeMs = decodeMs
    }

    public var totalMs: Double { packMs + inferenceMs + decodeMs }
}

/// One processed camera frame: the pose (smoothed when asked), the upright frame size, timings, FPS, track state.
public struct FrameResult {
    public let pose: Pose
    public let uprightWidth: Int
    public let uprightHeight: Int
    public let times: StageTimes
    public let fps: Double
    public let trackLost: Bool
}

/// Everything the apps do per camera frame, platform-free: the tracked person box, the crop cut through the camera's
/// rotation, the model, the decode to frame pixels and millimetres, the box update, One-Euro smoothing and the FPS.
public final class FramePipeline {
    private let manifest: ModelManifest
    private let model: ModelRunner
    private let intrinsicsFor: (Int, Int) -> Intrinsics
    private let smoothing: OneEuroFilter?
    private let clock: () -> Int64
    private let assembler: PoseAssembler
    private let fps: FpsMeter
    private var tracker: BoxTracker?
    private var trackedSize = [0, 0]

    /// Takes the uint8 NHWC crop of a LiteRT artifact or the RGB image of a CoreML one (both packed by InputPacker).
    public init(
        manifest: ModelManifest,
        model: ModelRunner,
        intrinsicsFor: @escaping (Int, Int) -> Intrinsics,
        smoothing: OneEuroFilter? = OneEuroFilter(),
        clock: @escaping () -> Int64 = monotonicNanos
    ) throws {
        let nhwc = manifest.input.dtype == "uint8" && manifest.inputLayout == "NHWC"
        let coreMLImage = manifest.input.dtype == "image" && manifest.inputLayout == "ImageType RGB"
        try require(
            nhwc || coreMLImage,
            "the model takes \(manifest.inputLayout) \(manifest.input.dtype); the app packs NHWC uint8 (export with mhp-export)"
        )
        self.manifest = manifest
        self.model = model
        self.intrinsicsFor = intrinsicsFor
        self.smoothing = smoothing
        self.clock = clock
        assembler = PoseAssembler(manifest: manifest)
        fps = FpsMeter(clock: clock)
    }

    /// `timestampNs`: the frame's capture time, which drives the smoothing.
    public func process(_ frame: PixelBuffer, rotationDegrees: Int, timestampNs: Int64) throws -> FrameResult {
        let start = clock()
        let size = try Orientation.uprightSize(width: frame.width, height: frame.height, degrees: rotationDegrees)
        let track = trackerFor(size)
        let cropBox = CropMath.processBox(track.box, imageWidth: size[0], imageHeight: size[1])
            ?? Boxes.centred(width: size[0], height: size[1])
        let toCrop = try Orientation.bufferToUpright(width: frame.width, height: frame.height, degrees: rotationDegrees)
            .then(CropMath.cropAffine(cropBox, size: manifest.inputSize))
        let input = InputPacker.pack(frame, bufferToCrop: toCrop, size: manifest.inputSize)
        let packed = clock()
        try model.run(input)
        let ran = clock()
        let decoded = try model.decode()
        let raw = assembler.assemble(decoded, cropBox: cropBox, intrinsics: intrinsicsFor(size[0], size[1]))
        let lost = track.update(joints: raw.jointsImage, confidence: raw.confidence)
        if lost {
            smoothing?.reset()
        }
        let pose = smoothing.map { smooth(raw, filter: $0, seconds: Double(timestampNs) / 1e9) } ?? raw
        let done = clock()
        let times = StageTimes(
            packMs: Double(packed - start) / 1e6,
            inferenceMs: Double(ran - packed) / 1e6,
            decodeMs: Double(done - ran) / 1e6
        )
        return FrameResult(
            pose: pose, uprightWidth: size[0], uprightHeight: size[1], times: times, fps: fps.tick(), trackLost: lost
        )
    }

    private func trackerFor(_ size: [Int]) -> BoxTracker {
        if let current = tracker, size == trackedSize {
            return current
        }
        trackedSize = size
        smoothing?.reset()
        let fresh = BoxTracker(width: size[0], height: size[1])
        tracker = fresh
        return fresh
    }

    /// Joints in pixels and millimetres are filtered together, one vector per frame.
    private func smooth(_ pose: Pose, filter: OneEuroFilter, seconds: Double) -> Pose {
        let joints = pose.jointsImage.count
        var flat: [Double] = []
        flat.reserveCapacity(joints * 5)
        for j in 0..<joints {
            flat += pose.jointsImage[j]
            flat += pose.jointsRelMm[j]
        }
        let out = filter.filter(flat, t: seconds)
        return Pose(
            jointsImage: (0..<joints).map { Array(out[($0 * 5)..<($0 * 5 + 2)]) },
            confidence: pose.confidence,
            jointsRelMm: (0..<joints).map { Array(out[($0 * 5 + 2)..<($0 * 5 + 5)]) },
            rootDepthMm: pose.rootDepthMm,
            cropBox: pose.cropBox
        )
    }
}

/// Times `block` `runs` times after `warmup` untimed calls; milliseconds per call, clock injected (nanoseconds).
public enum BenchLoop {
    public static func time(
        warmup: Int, runs: Int, clock: () -> Int64 = monotonicNanos, _ block: () throws -> Void
    ) throws -> [Double] {
        try require(warmup >= 0 && runs > 0, "warmup \(warmup) and runs \(runs): need warmup >= 0 and runs > 0")
        for _ in 0..<warmup {
            try block()
        }
        return try (0..<runs).map { _ -> Double in
            let start = clock()
            try block()
            return Double(clock() - start) / 1e6
        }
    }
}
