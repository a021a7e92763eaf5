import XCTest
@testable import PoseCore

/// Every detector case and the multi-person tracking script Python wrote (mhp.export.golden_detector), replayed here.
final class DetectorGoldenTest: XCTestCase {
    private let folder = goldenFolder().appendingPathComponent("detector")
    private var manifest: JsonObject!
    private var tolerance: JsonObject!

    override func setUpWithError() throws {
        manifest = JsonObject(try readJsonObject(folder.appendingPathComponent("detector.json")))
        tolerance = try manifest.object("tolerances")
    }

    func testAnchorsAndConstantsAreThePythonOnes() throws {
        XCTAssertEqual(try manifest.int("input_size"), BlazePose.inputSize)
        XCTAssertEqual(try manifest.int("num_anchors"), BlazePose.numAnchors)
        XCTAssertEqual(try manifest.ints("strides"), BlazePose.strides)
        XCTAssertEqual(try manifest.double("score_clip"), BlazePose.scoreClip)
        XCTAssertEqual(try manifest.double("min_score"), BlazePose.minScore)
        XCTAssertEqual(try manifest.double("suppression_iou"), BlazePose.suppressionIou)
        XCTAssertEqual(try manifest.double("crop_margin"), BlazePose.cropMargin)
        XCTAssertEqual(try manifest.double("region_margin"), BlazePose.regionMargin)
        assertClose(try rows(manifest, "anchors"), BlazePose.anchors, try tolerance.double("anchor"), "anchors")
    }

    /// One activity per case (XCTest has no dynamic tests): a failure names its case.
    func testDetectorCases() throws {
        let cases = try manifest.objects("cases")
        XCTAssertFalse(cases.isEmpty)
        for detectorCase in cases {
            try XCTContext.runActivity(named: try detectorCase.string("name")) { _ in try check(detectorCase) }
        }
    }

    private func check(_ detectorCase: JsonObject) throws {
        let dir = folder.appendingPathComponent(try detectorCase.string("name"))
        let expected = JsonObject(try readJsonObject(dir.appendingPathComponent(try detectorCase.string("expected"))))
        let size = try detectorCase.ints("image_size_px")
        XCTAssertEqual(size, try expected.ints("image_size_px"), "image size")
        let width = size[0]
        let height = size[1]
        let output = try DetectorOutput(
            boxes: littleEndianFloats(try Data(contentsOf: dir.appendingPathComponent(try detectorCase.string("boxes")))),
            scores: littleEndianFloats(try Data(contentsOf: dir.appendingPathComponent(try detectorCase.string("scores"))))
        )
        let box = try tolerance.double("box")
        let pixels = try tolerance.double("pixels")
        let score = try tolerance.double("score")

        let letterbox = try Letterbox(width: width, height: height)
        assertClose(try rows(expected, "letterbox_affine").flatMap { $0 }, letterbox.affine.m, box, "letterbox affine")
        assertClose(try expected.doubles("padding"), letterbox.padding, box, "padding")

        let minScore = try manifest.double("min_score")
        let hits = try BlazePose.decode(output, minScore: minScore)
        XCTAssertEqual(try expected.ints("kept_anchors"), hits.map { $0.anchor }, "kept anchors")
        assertClose(try expected.doubles("kept_scores"), hits.map { $0.score }, score, "kept scores")
        assertClose(try rows(expected, "kept_boxes"), hits.map { $0.box }, box, "kept boxes")
        let keypoints = try expected.get("kept_keypoints", as: [[[NSNumber]]].self)
        XCTAssertEqual(keypoints.count, hits.count, "kept keypoints")
        for (k, hit) in hits.enumerated() where k < keypoints.count {
            assertClose(keypoints[k].map { row in row.map { $0.doubleValue } }, hit.keypoints, box, "kept keypoints[\(k)]")
        }

        let people = try BlazePose.detections(output, width: width, height: height, minScore: minScore)
        let records = try expected.objects("detections")
        XCTAssertEqual(records.count, people.count, "detections")
        for (k, (record, person)) in zip(records, people).enumerated() {
            XCTAssertEqual(try record.double("score"), person.score, accuracy: score, "score of detection \(k)")
            assertClose(try record.doubles("face_box_xywh_px"), person.box, pixels, "face box \(k)")
            assertClose(try rows(record, "keypoints_px"), person.keypoints, pixels, "keypoints \(k)")
            assertClose(try record.doubles("crop_box_xywh_px"), person.cropBox, pixels, "crop box \(k)")
            assertClose(try record.doubles("region_xywh_px"), person.region, pixels, "region \(k)")
            assertClose(try record.doubles("person_box_xywh_px"), person.personBox(width: width, height: height), pixels, "person box \(k)")
        }
        XCTAssertEqual(try expected.bool("anybody"), BlazePose.anybody(people), "anybody")
        if detectorCase.has("image") {
            try checkInput(detectorCase, dir, width, height)
        }
    }

    /// A real run: packing the photo gives the input LiteRT was given.
    private func checkInput(_ detectorCase: JsonObject, _ dir: URL, _ width: Int, _ height: Int) throws {
        let image = [UInt8](try Data(contentsOf: dir.appendingPathComponent(try detectorCase.string("image"))))
        let packed = try BlazePose.pack(try PixelBuffer(bytes: image, width: width, height: height), rotationDegrees: 0)
        let reference = littleEndianFloats(try Data(contentsOf: dir.appendingPathComponent(try detectorCase.string("input"))))
        XCTAssertEqual(reference.count, packed.count, "input size")
        let tol = try tolerance.double("input")
        let worst = zip(packed, reference).map { Double(abs($0 - $1)) }.max() ?? 0
        XCTAssertTrue(worst <= tol, "packed input differs from LiteRT's by up to \(worst) (tolerance \(tol))")
    }

    /// The multi-person tracker replays Python's script: detector runs, ids, boxes cut, found, written, box after.
    func testTracksFollowThePythonScript() throws {
        let script = JsonObject(try readJsonObject(folder.appendingPathComponent(try manifest.string("tracking"))))
        let size = try script.ints("image_size_px")
        let tracks = try Tracks(
            width: size[0], height: size[1], minConfidence: try script.double("min_confidence"),
            detectEvery: try script.int("detect_every"), maxMissed: try script.int("max_missed"), minIou: try script.double("min_iou")
        )
        let answers = try script.get("detections", as: [[[NSNumber]]].self).map { frame in frame.map { box in box.map { $0.doubleValue } } }
        let steps = try script.objects("steps")
        let pixels = try tolerance.double("pixels")
        XCTAssertEqual(answers.count, steps.count)
        for step in steps {
            let index = try step.int("index")
            var ran = false
            let cut = try tracks.boxes(index: index) {
                ran = true
                return answers[index]
            }
            XCTAssertEqual(try step.bool("detector_ran"), ran, "detector ran in frame \(index)")
            let people = try step.objects("people")
            XCTAssertEqual(people.count, cut.count, "people cut from frame \(index)")
            for (k, (person, pair)) in zip(people, cut).enumerated() {
                let what = "frame \(index), person \(k)"
                XCTAssertEqual(try person.int("track_id"), pair.id, "track id, \(what)")
                assertClose(try person.doubles("box_xywh_px"), pair.box, pixels, "box cut, \(what)")
                XCTAssertEqual(try person.bool("found_now"), try tracks.foundNow(pair.id), "found now, \(what)")
                let written = try tracks.follow(pair.id, joints: try rows(person, "joints_img_px"), confidence: try person.doubles("confidence"))
                XCTAssertEqual(try person.bool("written"), written, "written, \(what)")
                let after = try XCTUnwrap(tracks.tracks.first(where: { $0.id == pair.id }), "track \(pair.id) after \(what)")
                assertClose(try person.doubles("box_after_xywh_px"), after.box, pixels, "box after, \(what)")
            }
        }
    }

    private func rows(_ record: JsonObject, _ key: String) throws -> [[Double]] {
        try record.get(key, as: [[NSNumber]].self).map { row in row.map { $0.doubleValue } }
    }
}
