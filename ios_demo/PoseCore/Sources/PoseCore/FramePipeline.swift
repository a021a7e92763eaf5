import Foundation

/// A model as the pipeline sees it: `run` feeds a packed input (copy in, invoke); `decode` turns the outputs into voxels.
public protocol ModelRunner: AnyObject {
    func run(_ input: [UInt8]) throws
    func decode() throws -> Decoded
}

/// Milliseconds of the stages of one frame: crop + pack, model run, decode + geometry, and the person detector
/// (letterbox, run, post-processing; 0 without one).
public struct StageTimes {
    public let packMs: Double
    public let inferenceMs: Double
    public let decodeMs: Double
    public let detectMs: Double

    public init(packMs: Double, inferenceMs: Double, decodeMs: Double, detectMs: Double = 0) {
        self.packMs = packMs
        self.inferenceMs = inferenceMs
        self.decodeMs = decodeMs
        self.detectMs = detectMs
    }

    public var totalMs: Double { packMs + inferenceMs + decodeMs + detectMs }
}

/// One processed camera frame: the `pose` (smoothed when asked; nil when nobody is shown), the upright frame size,
/// timings, FPS and the track state. With a detector: `trackId` is the shown person's track, `detectorRan` whether the
/// detector ran on this frame and `detections` what it found then (upright frame pixels, best first).
public struct FrameResult {
    public let pose: Pose?
    public let uprightWidth: Int
    public let uprightHeight: Int
    public let times: StageTimes
    public let fps: Double
    public let trackLost: Bool
    public let trackId: Int?
    public let detectorRan: Bool
    public let detections: [Detection]

    /// Whether a person is shown; false: the app shows "no person" and draws no skeleton.
    public var person: Bool { pose != nil }
}

/// Everything the apps do per camera frame, platform-free: the person box, the crop cut through the camera's rotation,
/// the model, the decode to frame pixels and millimetres, the box update, One-Euro smoothing and the FPS.
///
/// Without a `detector` one person is tracked from a centred box (BoxTracker) and a pose is always shown. With one,
/// `Tracks` runs it when due (first frame, every 10 frames, after a lost track) on `BlazePose.pack`'s input; the pose
/// model runs for the tracked person with the lowest id, and not at all when nobody is tracked; a pose is shown when
/// it is confident or the detector found its person in this frame.
public final class FramePipeline {
    private let manifest: ModelManifest
    private let model: ModelRunner
    private let intrinsicsFor: (Int, Int) -> Intrinsics
    private let smoothing: OneEuroFilter?
    private let detector: DetectorRunner?
    private let clock: () -> Int64
    private let assembler: PoseAssembler
    private let fps: FpsMeter
    private var tracker: BoxTracker?
    private var tracks: Tracks?
    private var trackedSize = [0, 0]
    private var frameIndex = 0
    private var shownId: Int?

    /// Takes the uint8 NHWC crop of a LiteRT artifact or the RGB image of a CoreML one (both packed by InputPacker).
    public init(
        manifest: ModelManifest,
        model: ModelRunner,
        intrinsicsFor: @escaping (Int, Int) -> Intrinsics,
        smoothing: OneEuroFilter? = OneEuroFilter(),
        detector: DetectorRunner? = nil,
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
        self.detector = detector
        self.clock = clock
        assembler = PoseAssembler(manifest: manifest)
        fps = FpsMeter(clock: clock)
    }

    /// `timestampNs`: the frame's capture time, which drives the smoothing.
    public func process(_ frame: PixelBuffer, rotationDegrees: Int, timestampNs: Int64) throws -> FrameResult {
        let start = clock()
        let size = try Orientation.uprightSize(width: frame.width, height: frame.height, degrees: rotationDegrees)
        guard let people = detector else {
            return try processOne(frame, rotationDegrees: rotationDegrees, timestampNs: timestampNs, size: size, start: start)
        }
        let tracks = try tracksFor(size)
        var ran = false
        var found: [Detection] = []
        let index = frameIndex
        frameIndex += 1
        let cut = try tracks.boxes(index: index) {
            ran = true
            found = try BlazePose.detections(
                try people.run(try BlazePose.pack(frame, rotationDegrees: rotationDegrees)), width: size[0], height: size[1]
            )
            return found.map { $0.cropBox }
        }
        let detected = clock()
        var chosen: (id: Int, cropBox: [Double])?
        for (id, box) in cut {
            if let cropBox = CropMath.processBox(box, imageWidth: size[0], imageHeight: size[1]) {
                chosen = (id: id, cropBox: cropBox)
                break
            }
        }
        guard let choice = chosen else {
            forgetShown()
            return FrameResult(
                pose: nil, uprightWidth: size[0], uprightHeight: size[1],
                times: StageTimes(packMs: 0, inferenceMs: 0, decodeMs: 0, detectMs: Double(detected - start) / 1e6),
                fps: fps.tick(), trackLost: false, trackId: nil, detectorRan: ran, detections: found
            )
        }
        let id = choice.id
        let cropBox = choice.cropBox
        if id != shownId {
            smoothing?.reset()
        }
        shownId = id
        let (raw, packed, done) = try estimate(frame, rotationDegrees: rotationDegrees, size: size, cropBox: cropBox)
        let written = try tracks.follow(id, joints: raw.jointsImage, confidence: raw.confidence)
        let lost = tracks.tracks.first(where: { $0.id == id })?.lost ?? true
        if !written {
            forgetShown()  // smoothing starts again when the person is shown again
        }
        let pose: Pose? = written ? (smoothing.map { smooth(raw, filter: $0, seconds: Double(timestampNs) / 1e9) } ?? raw) : nil
        let end = clock()
        let times = StageTimes(
            packMs: Double(packed - detected) / 1e6,
            inferenceMs: Double(done - packed) / 1e6,
            decodeMs: Double(end - done) / 1e6,
            detectMs: Double(detected - start) / 1e6
        )
        return FrameResult(
            pose: pose, uprightWidth: size[0], uprightHeight: size[1], times: times, fps: fps.tick(), trackLost: lost,
            trackId: id, detectorRan: ran, detections: found
        )
    }

    /// One person without a detector: the BoxTracker's box, reset to the centred box when the pose is lost.
    private func processOne(
        _ frame: PixelBuffer, rotationDegrees: Int, timestampNs: Int64, size: [Int], start: Int64
    ) throws -> FrameResult {
        let track = trackerFor(size)
        // an unusable box (NaN, infinite, empty, outside the frame) is cut like the centred box: processed, x 1.25
        let cropBox = CropMath.processBox(track.box, imageWidth: size[0], imageHeight: size[1])
            ?? CropMath.centredCrop(imageWidth: size[0], imageHeight: size[1])
        let (raw, packed, ran) = try estimate(frame, rotationDegrees: rotationDegrees, size: size, cropBox: cropBox)
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
            pose: pose, uprightWidth: size[0], uprightHeight: size[1], times: times, fps: fps.tick(), trackLost: lost,
            trackId: nil, detectorRan: false, detections: []
        )
    }

    /// The pose model on the crop of `cropBox`: the raw pose, and the clock after packing and after the run.
    private func estimate(
        _ frame: PixelBuffer, rotationDegrees: Int, size: [Int], cropBox: [Double]
    ) throws -> (Pose, Int64, Int64) {
        let toCrop = try Orientation.bufferToUpright(width: frame.width, height: frame.height, degrees: rotationDegrees)
            .then(CropMath.cropAffine(cropBox, size: manifest.inputSize))
        let input = InputPacker.pack(frame, bufferToCrop: toCrop, size: manifest.inputSize)
        let packed = clock()
        try model.run(input)
        let ran = clock()
        let decoded = try model.decode()
        return (assembler.assemble(decoded, cropBox: cropBox, intrinsics: intrinsicsFor(size[0], size[1])), packed, ran)
    }

    private func forgetShown() {
        smoothing?.reset()
        shownId = nil
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

    /// A new frame size (a turned camera) starts new tracks: frame 0 runs the detector.
    private func tracksFor(_ size: [Int]) throws -> Tracks {
        if let current = tracks, size == trackedSize {
            return current
        }
        trackedSize = size
        frameIndex = 0
        forgetShown()
        let fresh = try Tracks(width: size[0], height: size[1])
        tracks = fresh
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
