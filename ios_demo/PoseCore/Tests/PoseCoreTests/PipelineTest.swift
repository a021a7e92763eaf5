import XCTest
@testable import PoseCore

/// A model that records its inputs and answers two joints at fixed voxels with a given confidence.
private final class FakeModel: ModelRunner {
    var confidence: Double
    private let jitter: Double
    private(set) var inputs: [[UInt8]] = []

    init(confidence: Double, jitter: Double = 0.0) {
        self.confidence = confidence
        self.jitter = jitter
    }

    func run(_ input: [UInt8]) {
        inputs.append(input)
    }

    func decode() -> Decoded {
        let shake = inputs.count % 2 == 0 ? jitter : -jitter
        return Decoded(coords: [[2.0, 1.0, 16.0], [5.0, 6.0, 20.0 + shake]], confidence: [confidence, confidence])
    }
}

/// A model that answers the same joints (voxels) until told others.
private final class PlacedModel: ModelRunner {
    var coords: [[Double]]

    init(coords: [[Double]]) {
        self.coords = coords
    }

    func run(_ input: [UInt8]) {}

    func decode() -> Decoded {
        Decoded(coords: coords, confidence: [Double](repeating: 0.5, count: coords.count))
    }
}

/// A detector that records its inputs and answers fixed raw outputs.
private final class FakeDetector: DetectorRunner {
    var output: DetectorOutput
    private(set) var inputs: [[Float]] = []

    init(output: DetectorOutput) {
        self.output = output
    }

    func run(_ input: [Float]) -> DetectorOutput {
        inputs.append(input)
        return output
    }
}

/// Raw outputs with nobody, or one person at the input's centre (stride 8, cell (14, 14)).
private func rawOutputs(person: Bool) throws -> DetectorOutput {
    var boxes = [Float](repeating: 0, count: 2254 * 12)
    var scores = [Float](repeating: -30, count: 2254)
    if person {
        let k = 28 * 2 * 14 + 2 * 14
        scores[k] = 3
        boxes.replaceSubrange((k * 12)..<(k * 12 + 12), with: [0, -20, 30, 30, 0, 10, 0, -60, 0, 0, 0, -30] as [Float])
    }
    return try DetectorOutput(boxes: boxes, scores: scores)
}

final class PipelineTest: XCTestCase {
    private let manifest = try! ModelManifest.parse(
        BenchReportTest.manifest.replacingOccurrences(of: "128", with: "32")
            .replacingOccurrences(of: "[16, 16]", with: "[8, 8]")
            .replacingOccurrences(of: "16, 16, 64", with: "8, 8, 64")
    )
    private let buffer = try! PixelBuffer(bytes: seededBytes(64 * 48 * 4, seed: 3), width: 64, height: 48, pixelStride: 4)  // landscape sensor, RGBA
    private let intrinsics: (Int, Int) -> Intrinsics = { w, h in try! Intrinsics.fromFov(width: w, height: h) }

    func testFramesAreCutThroughTheRotationAndTheTrackFollowsThePose() throws {
        let model = FakeModel(confidence: 0.5)
        var now: Int64 = 0
        let pipeline = try FramePipeline(manifest: manifest, model: model, intrinsicsFor: intrinsics, smoothing: nil) {
            defer { now += 1_000_000 }
            return now
        }
        let first = try pipeline.process(buffer, rotationDegrees: 90, timestampNs: 0)
        XCTAssertEqual(48, first.uprightWidth)
        XCTAssertEqual(64, first.uprightHeight)
        let centred = try XCTUnwrap(CropMath.processBox(Boxes.centred(width: 48, height: 64), imageWidth: 48, imageHeight: 64))
        let firstPose = try XCTUnwrap(first.pose)
        assertClose(centred, firstPose.cropBox, 1e-12, "first crop box")
        let turn = try Orientation.bufferToUpright(width: 64, height: 48, degrees: 90)
        XCTAssertEqual(InputPacker.pack(buffer, bufferToCrop: turn.then(CropMath.cropAffine(centred, size: 32)), size: 32), model.inputs[0])
        let reference = PoseAssembler(manifest: manifest).assemble(model.decode(), cropBox: centred, intrinsics: intrinsics(48, 64))
        assertClose(reference.jointsImage[1], firstPose.jointsImage[1], 1e-12, "joint 1")
        XCTAssertEqual(1.0, first.times.packMs, accuracy: 1e-12)
        XCTAssertEqual(1.0, first.times.inferenceMs, accuracy: 1e-12)
        XCTAssertEqual(3.0, first.times.totalMs, accuracy: 1e-12)
        XCTAssertFalse(first.trackLost)
        XCTAssertTrue(first.person)  // without a detector a pose is always shown
        XCTAssertNil(first.trackId)
        XCTAssertFalse(first.detectorRan)

        let second = try pipeline.process(buffer, rotationDegrees: 90, timestampNs: 33_000_000)
        let tracked = try XCTUnwrap(CropMath.processBox(Boxes.fromJoints(firstPose.jointsImage), imageWidth: 48, imageHeight: 64))
        assertClose(tracked, try XCTUnwrap(second.pose).cropBox, 1e-12, "tracked crop box")
        XCTAssertEqual(200.0, second.fps, accuracy: 1e-9)  // one frame every 5 clock readings of 1 ms

        model.confidence = 0.01
        XCTAssertTrue(try pipeline.process(buffer, rotationDegrees: 90, timestampNs: 66_000_000).trackLost)
        model.confidence = 0.5
        let reset = try XCTUnwrap(try pipeline.process(buffer, rotationDegrees: 90, timestampNs: 99_000_000).pose)
        assertClose(centred, reset.cropBox, 1e-12, "reset box")
        let unturned = try pipeline.process(buffer, rotationDegrees: 0, timestampNs: 132_000_000)  // a new orientation starts a new track
        XCTAssertEqual(64, unturned.uprightWidth)
        let landscape = try XCTUnwrap(CropMath.processBox(Boxes.centred(width: 64, height: 48), imageWidth: 64, imageHeight: 48))
        assertClose(landscape, try XCTUnwrap(unturned.pose).cropBox, 1e-12, "new track")
    }

    func testAnUnusableTrackedBoxFallsBackToTheExpandedCentredCrop() throws {
        let centred = CropMath.centredCrop(imageWidth: 64, imageHeight: 48)
        assertClose(try XCTUnwrap(CropMath.processBox(Boxes.centred(width: 64, height: 48), imageWidth: 64, imageHeight: 48)), centred, 0.0, "centred")
        let edge = CropMath.cropAffine(centred, size: 32).apply(64.0, 24.0).map { $0 / 4 }  // crop px -> voxels (32 / 8)
        let model = PlacedModel(coords: [[edge[0], edge[1], 16.0], [edge[0], edge[1], 16.0]])
        let pipeline = try FramePipeline(manifest: manifest, model: model, intrinsicsFor: intrinsics, smoothing: nil)
        let first = try XCTUnwrap(try pipeline.process(buffer, rotationDegrees: 0, timestampNs: 0).pose)
        assertClose(centred, first.cropBox, 1e-12, "first crop box")
        XCTAssertEqual(64.0, first.jointsImage[0][0], accuracy: 1e-9)
        // the joints' box (x 63.4-64.6) touches the frame but has nothing to crop: the centred box's crop, x 1.25
        let second = try pipeline.process(buffer, rotationDegrees: 0, timestampNs: 33_000_000)
        XCTAssertFalse(second.trackLost)
        let secondPose = try XCTUnwrap(second.pose)
        assertClose(centred, secondPose.cropBox, 1e-12, "fallback crop box")
        XCTAssertGreaterThan(secondPose.cropBox[2], Boxes.centred(width: 64, height: 48)[2] * 1.2)  // not the bare centred box
        // a model answering NaN: a pose of NaN, the track lost, and the next frame cut from the centred crop (no trap)
        model.coords = [[Double]](repeating: [.nan, .nan, .nan], count: 2)
        let broken = try pipeline.process(buffer, rotationDegrees: 0, timestampNs: 66_000_000)
        XCTAssertTrue(broken.trackLost)
        XCTAssertTrue(try XCTUnwrap(broken.pose).jointsImage[0][0].isNaN)
        let next = try XCTUnwrap(try pipeline.process(buffer, rotationDegrees: 0, timestampNs: 99_000_000).pose)
        assertClose(centred, next.cropBox, 1e-12, "crop box after the loss")
    }

    func testTheDetectorFindsThePersonTheModelIsCutFrom() throws {
        let model = FakeModel(confidence: 0.5)
        let detector = FakeDetector(output: try rawOutputs(person: true))
        var now: Int64 = 0
        let pipeline = try FramePipeline(manifest: manifest, model: model, intrinsicsFor: intrinsics, smoothing: nil, detector: detector) {
            defer { now += 1_000_000 }
            return now
        }
        let first = try pipeline.process(buffer, rotationDegrees: 90, timestampNs: 0)
        XCTAssertTrue(first.person)
        XCTAssertTrue(first.detectorRan)
        XCTAssertEqual(0, first.trackId)
        XCTAssertEqual(try BlazePose.pack(buffer, rotationDegrees: 90), detector.inputs.first)  // the upright frame letterboxed
        let found = try BlazePose.detections(try rawOutputs(person: true), width: 48, height: 64)
        XCTAssertEqual(1, found.count)
        XCTAssertEqual(found.first?.box, first.detections.first?.box)
        let cropBox = try XCTUnwrap(CropMath.processBox(found[0].cropBox, imageWidth: 48, imageHeight: 64))
        let firstPose = try XCTUnwrap(first.pose)
        assertClose(cropBox, firstPose.cropBox, 1e-12, "detected crop box")
        let turn = try Orientation.bufferToUpright(width: 64, height: 48, degrees: 90)
        XCTAssertEqual(InputPacker.pack(buffer, bufferToCrop: turn.then(CropMath.cropAffine(cropBox, size: 32)), size: 32), model.inputs.first)
        XCTAssertEqual(1.0, first.times.detectMs, accuracy: 1e-12)
        XCTAssertEqual(4.0, first.times.totalMs, accuracy: 1e-12)
        XCTAssertFalse(first.trackLost)

        let second = try pipeline.process(buffer, rotationDegrees: 90, timestampNs: 33_000_000)  // a confident pose is followed without the detector
        XCTAssertFalse(second.detectorRan)
        XCTAssertEqual(1, detector.inputs.count)
        XCTAssertTrue(second.detections.isEmpty)
        let tracked = try XCTUnwrap(CropMath.processBox(Boxes.fromJoints(firstPose.jointsImage), imageWidth: 48, imageHeight: 64))
        assertClose(tracked, try XCTUnwrap(second.pose).cropBox, 1e-12, "followed crop box")
        for t in 2..<10 {
            _ = try pipeline.process(buffer, rotationDegrees: 90, timestampNs: Int64(t) * 33_000_000)
        }
        XCTAssertEqual(1, detector.inputs.count)
        XCTAssertTrue(try pipeline.process(buffer, rotationDegrees: 90, timestampNs: 330_000_000).detectorRan)  // every 10 frames
        XCTAssertTrue(try pipeline.process(buffer, rotationDegrees: 0, timestampNs: 363_000_000).detectorRan)  // a turned camera starts again
        XCTAssertEqual(3, detector.inputs.count)
    }

    func testNobodyThereMeansNoPoseAndNoModelRun() throws {
        let model = FakeModel(confidence: 0.5)
        let detector = FakeDetector(output: try rawOutputs(person: false))
        let pipeline = try FramePipeline(manifest: manifest, model: model, intrinsicsFor: intrinsics, detector: detector)
        for t in 0..<3 {
            let result = try pipeline.process(buffer, rotationDegrees: 90, timestampNs: Int64(t) * 33_000_000)
            XCTAssertFalse(result.person)
            XCTAssertNil(result.pose)
            XCTAssertNil(result.trackId)
            XCTAssertTrue(result.detectorRan)  // nobody tracked: the detector runs on every frame
            XCTAssertEqual(0.0, result.times.inferenceMs)
        }
        XCTAssertEqual(3, detector.inputs.count)
        XCTAssertTrue(model.inputs.isEmpty)
    }

    func testAnUnsurePoseIsShownOnlyWhenTheDetectorFoundItThisFrame() throws {
        let model = FakeModel(confidence: 0.01)
        let detector = FakeDetector(output: try rawOutputs(person: true))
        let pipeline = try FramePipeline(manifest: manifest, model: model, intrinsicsFor: intrinsics, detector: detector)
        let first = try pipeline.process(buffer, rotationDegrees: 90, timestampNs: 0)
        XCTAssertTrue(first.person && first.trackLost)
        let again = try pipeline.process(buffer, rotationDegrees: 90, timestampNs: 33_000_000)  // the lost track runs the detector, which finds it again
        XCTAssertTrue(again.detectorRan && again.person && again.trackLost)
        XCTAssertEqual(0, again.trackId)
        detector.output = try rawOutputs(person: false)
        let gone = try pipeline.process(buffer, rotationDegrees: 90, timestampNs: 66_000_000)
        XCTAssertTrue(gone.detectorRan)
        XCTAssertFalse(gone.person)
        XCTAssertEqual(2, model.inputs.count)  // the lost track is not cut
        model.confidence = 0.5
        detector.output = try rawOutputs(person: true)
        let back = try pipeline.process(buffer, rotationDegrees: 90, timestampNs: 99_000_000)
        XCTAssertTrue(back.person)
        XCTAssertFalse(back.trackLost)
        XCTAssertEqual(0, back.trackId)  // missed once: the same track
        XCTAssertFalse(try pipeline.process(buffer, rotationDegrees: 90, timestampNs: 132_000_000).detectorRan)
    }

    func testSmoothingDampsDepthJitter() throws {
        func spread(_ smoothing: OneEuroFilter?) throws -> Double {
            let pipeline = try FramePipeline(
                manifest: manifest, model: FakeModel(confidence: 0.5, jitter: 2.0), intrinsicsFor: intrinsics, smoothing: smoothing
            )
            let depths = try (0..<60).map { t -> Double in
                let pose = try XCTUnwrap(try pipeline.process(buffer, rotationDegrees: 0, timestampNs: Int64(t) * 33_000_000).pose)
                return pose.jointsRelMm[1][2]
            }
            let settled = depths.dropFirst(30)
            return (settled.max() ?? 0) - (settled.min() ?? 0)
        }
        let raw = try spread(nil)
        XCTAssertEqual(4 * 2000.0 / 32, raw, accuracy: 1e-6)  // +-2 bins of 62.5 mm
        XCTAssertTrue(try spread(OneEuroFilter(minCutoff: 1.0, beta: 0.0)) < raw / 3)
    }

    func testAModelThatIsNotUint8NhwcIsRefused() throws {
        let float = try ModelManifest.parse(BenchReportTest.manifest.replacingOccurrences(of: "\"uint8\"", with: "\"float32\""))
        XCTAssertThrowsError(try FramePipeline(manifest: float, model: FakeModel(confidence: 0.5), intrinsicsFor: intrinsics)) { error in
            XCTAssertEqual("the model takes NHWC float32; the app packs NHWC uint8 (export with mhp-export)", (error as? PoseCoreError)?.message)
        }
    }

    /// Swift only: a CoreML artifact's RGB image input is packed like the LiteRT crop (its runner wraps it in a CVPixelBuffer).
    func testACoreMLImageInputIsPackedLikeTheLiteRTCrop() throws {
        let coreML = try ModelManifest.parse(
            BenchReportTest.manifest.replacingOccurrences(of: "\"NHWC\"", with: "\"ImageType RGB\"")
                .replacingOccurrences(of: "\"uint8\"", with: "\"image\"")
                .replacingOccurrences(of: "[1, 128, 128, 3]", with: "[1, 3, 128, 128]")
        )
        let model = FakeModel(confidence: 0.5)
        let pipeline = try FramePipeline(manifest: coreML, model: model, intrinsicsFor: intrinsics, smoothing: nil)
        _ = try pipeline.process(buffer, rotationDegrees: 0, timestampNs: 0)
        XCTAssertEqual(128 * 128 * 3, model.inputs[0].count)
    }

    func testBenchLoopTimesOnlyTheTimedRuns() throws {
        var calls = 0
        var now: Int64 = 0
        let times = try BenchLoop.time(warmup: 3, runs: 4, clock: { now }) {
            calls += 1
            now += Int64(calls) * 1_000_000
        }
        XCTAssertEqual(7, calls)
        assertClose([4.0, 5.0, 6.0, 7.0], times, 1e-12, "run times")
        XCTAssertThrowsError(try BenchLoop.time(warmup: 0, runs: 0) {})
    }
}
