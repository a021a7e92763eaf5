import XCTest
@testable import PoseCore

/// Every golden case Python wrote (mhp-export --golden), decoded here, must match within the manifest's tolerances.
final class GoldenTest: XCTestCase {
    private let folder = goldenFolder()
    private var manifest: JsonObject!
    private var tolerance: JsonObject!
    private var skeleton: Skeleton!

    override func setUpWithError() throws {
        manifest = JsonObject(try readJsonObject(folder.appendingPathComponent("manifest.json")))
        tolerance = try manifest.object("tolerances")
        skeleton = try Skeleton.fromJson(try manifest.object("joints").values)
    }

    /// One activity per case (XCTest has no dynamic tests): a failure names its case.
    func testGoldenCases() throws {
        let cases = try manifest.objects("cases")
        XCTAssertFalse(cases.isEmpty)
        for goldenCase in cases {
            try XCTContext.runActivity(named: try goldenCase.string("name")) { _ in try check(goldenCase) }
        }
    }

    private func check(_ goldenCase: JsonObject) throws {
        let dir = folder.appendingPathComponent(try goldenCase.string("name"))
        let expected = JsonObject(try readJsonObject(dir.appendingPathComponent(try goldenCase.string("expected"))))
        let shape = try goldenCase.ints("shape")
        let depth = try goldenCase.has("depth_bins") ? goldenCase.int("depth_bins") : manifest.int("depth_bins")
        let size = try goldenCase.has("input_size") ? goldenCase.int("input_size") : manifest.int("input_size")
        let height = shape[1]
        let width = shape[2]
        let decoder = HeatmapDecoder(height: height, width: width, joints: shape[3] / depth, depth: depth)
        let bytes = try Data(contentsOf: dir.appendingPathComponent(try goldenCase.string("output")))
        let decoded: Decoded
        let argmax: [[Int]]
        if try goldenCase.string("dtype") == "int8" {
            let quantised = [UInt8](bytes).map { Int8(bitPattern: $0) }
            decoded = decoder.softArgmax(quantised, scale: try goldenCase.double("scale"))
            argmax = decoder.argmax(quantised)
        } else {
            let floats = littleEndianFloats(bytes)
            decoded = decoder.softArgmax(floats)
            argmax = decoder.argmax(floats)
        }
        assertClose(try doubleRows(expected, "coords_voxel"), decoded.coords, try tolerance.double("coords_voxel"), "coords")
        assertClose(try expected.doubles("confidence"), decoded.confidence, try tolerance.double("confidence"), "confidence")
        XCTAssertEqual(try expected.get("argmax_voxel", as: [[Int]].self), argmax, "argmax")

        let camera = try expected.object("camera")
        let imageSize = try camera.ints("image_size_px")
        let cropBox = try XCTUnwrap(CropMath.processBox(try camera.doubles("box_xywh_px"), imageWidth: imageSize[0], imageHeight: imageSize[1]))
        assertClose(try camera.doubles("crop_box_xywh_px"), cropBox, 1e-6, "crop box")
        let affine = CropMath.cropAffine(cropBox, size: size)
        assertClose(try doubleRows(camera, "image_to_crop_affine").flatMap { $0 }, affine.m, 1e-9, "affine")
        let pixels = try tolerance.double("joints_px")
        let mm = try tolerance.double("joints_mm")
        let expectedCrop = try doubleRows(expected, "joints_crop_px")
        for j in decoded.coords.indices {
            let crop = CropMath.voxelToCrop(decoded.coords[j], heatmapWidth: width, heatmapHeight: height, depthBins: depth, size: size)
            assertClose(expectedCrop[j], Array(crop.prefix(2)), pixels, "crop px \(j)")
        }
        let intrinsics = Intrinsics(focal: try camera.doubles("focal_px"), principal: try camera.doubles("principal_px"), source: "golden")
        let assembler = PoseAssembler(inputSize: size, heatmapWidth: width, heatmapHeight: height, depthBins: depth, root: skeleton.root)
        let pose = assembler.assemble(decoded, cropBox: cropBox, intrinsics: intrinsics, rootDepthMm: try camera.double("root_depth_mm"))
        assertClose(try doubleRows(expected, "joints_image_px"), pose.jointsImage, pixels, "image px")
        assertClose(try doubleRows(expected, "joints_rel_mm"), pose.jointsRelMm, mm, "rel mm")
        let kValue = assembler.assemble(decoded, cropBox: cropBox, intrinsics: intrinsics).rootDepthMm
        XCTAssertEqual(try camera.double("root_depth_k_mm"), kValue, accuracy: mm, "k-value root depth")
        let fov = try Intrinsics.fromFov(width: imageSize[0], height: imageSize[1])
        assertClose(try camera.doubles("default_focal_px"), fov.focal, 1e-9, "default focal")
        if goldenCase.has("artifact_manifest") {
            try checkRealModel(goldenCase, dir, affine, size)
        }
    }

    /// The real run: the artifact's manifest parses to its tensors, and packing the frame gives the model input.
    private func checkRealModel(_ goldenCase: JsonObject, _ dir: URL, _ affine: Affine, _ size: Int) throws {
        let text = try String(contentsOf: dir.appendingPathComponent(try goldenCase.string("artifact_manifest")), encoding: .utf8)
        let model = try ModelManifest.parse(text)
        let shape = try goldenCase.ints("shape")
        let heatmaps = TensorSpec(name: "heatmaps", shape: shape, dtype: "int8")
        XCTAssertEqual(TensorSpec(name: "image", shape: [1, size, size, 3], dtype: "uint8"), model.input)
        XCTAssertEqual("NHWC", model.inputLayout)
        XCTAssertTrue(model.decodesOnDevice)
        XCTAssertEqual([heatmaps], model.outputs)
        XCTAssertEqual(shape[3], model.skeleton.names.count * model.depthBins)
        XCTAssertEqual(skeleton.names, model.skeleton.names)
        XCTAssertNil(model.mismatch(modelInputs: [model.input], modelOutputs: [heatmaps]))
        let wrong = TensorSpec(name: "heatmaps", shape: [1, 8, 8, shape[3]], dtype: "int8")
        XCTAssertEqual(
            "tensor 'heatmaps' is 1x8x8x\(shape[3]) int8 in the model, \(joined(heatmaps.shape)) int8 in the manifest",
            model.mismatch(modelInputs: [model.input], modelOutputs: [wrong])
        )
        let renamed = TensorSpec(name: "input_1", shape: model.input.shape, dtype: model.input.dtype)
        XCTAssertTrue(model.mismatch(modelInputs: [renamed], modelOutputs: [heatmaps])?.hasPrefix("the model has no tensor 'image'") ?? false)
        // the run-time checks an app makes pass on the exported model: the file's sha256 (Python's hashlib) and the
        // input quantisation LiteRT reported for it; another file is refused
        let quant = try goldenCase.get("input_quantization", as: [NSNumber].self)
        let sha = try goldenCase.string("artifact_sha256")
        XCTAssertEqual(64, try XCTUnwrap(model.artifactSha256).count)
        try model.checkArtifact(artifactSha256: sha, inputScale: quant[0].doubleValue, inputZeroPoint: quant[1].intValue)
        let other = (sha.hasPrefix("0") ? "1" : "0") + String(sha.dropFirst())
        XCTAssertThrowsError(try model.checkArtifact(artifactSha256: other, inputScale: quant[0].doubleValue, inputZeroPoint: quant[1].intValue))
        let camera = try JsonObject(try readJsonObject(dir.appendingPathComponent(try goldenCase.string("expected")))).object("camera")
        let imageSize = try camera.ints("image_size_px")
        let image = [UInt8](try Data(contentsOf: dir.appendingPathComponent(try goldenCase.string("image"))))
        let packed = InputPacker.pack(try PixelBuffer(bytes: image, width: imageSize[0], height: imageSize[1]), bufferToCrop: affine, size: size)
        let reference = [UInt8](try Data(contentsOf: dir.appendingPathComponent(try goldenCase.string("input"))))
        XCTAssertEqual(reference.count, packed.count)
        let diffs = zip(packed, reference).map { abs(Int($0) - Int($1)) }
        let worst = diffs.max() ?? 0
        let mean = Double(diffs.reduce(0, +)) / Double(max(packed.count, 1))
        // OpenCV interpolates in fixed point (1/32 pixel): a level or two apart at most, almost never
        XCTAssertTrue(worst <= 2 && mean < 0.3, "packing differs: max \(worst), mean \(mean)")
    }

    /// The tracker replays Python's: the same box after every frame, and a reset where Python reset.
    func testBoxTrackerFollowsThePythonTrack() throws {
        let track = JsonObject(try readJsonObject(folder.appendingPathComponent(try manifest.string("tracking"))))
        let size = try track.ints("image_size_px")
        let tracker = BoxTracker(width: size[0], height: size[1], minConfidence: try track.double("min_confidence"))
        let steps = try track.objects("steps")
        assertClose(try steps[0].doubles("box_before_xywh_px"), tracker.box, 1e-9, "first box")
        for i in 0..<(steps.count - 1) {
            let step = steps[i]
            let reset = tracker.update(joints: try doubleRows(step, "joints_img_px"), confidence: try step.doubles("confidence"))
            let after = steps[i + 1]
            XCTAssertEqual(try after.bool("reset"), reset, "reset after step \(i)")
            assertClose(try after.doubles("box_before_xywh_px"), tracker.box, 1e-9, "box after step \(i)")
        }
        XCTAssertEqual(2, tracker.resets)
    }

    private func doubleRows(_ record: JsonObject, _ key: String) throws -> [[Double]] {
        try record.get(key, as: [[NSNumber]].self).map { row in row.map { $0.doubleValue } }
    }
}
