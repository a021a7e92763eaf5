import XCTest
@testable import PoseCore

/// The detector's post-processing and the multi-person tracker on hand-computed cases.
final class DetectorTest: XCTestCase {
    private func hit(_ anchor: Int, _ score: Double, _ box: [Double], _ x: Double, _ y: Double) -> AnchorHit {
        AnchorHit(anchor: anchor, score: score, box: box, keypoints: Array(repeating: [x, y], count: 4))
    }

    private func person(_ score: Double, _ hipX: Double, _ hipY: Double, _ radius: Double) -> Detection {
        Detection(
            score: score, box: [hipX, hipY - 2 * radius, 10.0, 10.0],
            keypoints: [[hipX, hipY], [hipX, hipY - radius], [0.0, 0.0], [0.0, 0.0]]
        )
    }

    func testAnchorsRunRowByRowTwoPerCellAndSixWhereStridesRepeat() throws {
        let anchors = BlazePose.anchors
        XCTAssertEqual(2254, anchors.count)
        assertClose([0.5 / 28, 0.5 / 28], anchors[0], 1e-15, "anchor 0")
        XCTAssertEqual(anchors[0], anchors[1])
        assertClose([1.5 / 28, 0.5 / 28], anchors[2], 1e-15, "anchor 2")  // x first
        assertClose([0.5 / 28, 1.5 / 28], anchors[56], 1e-15, "anchor 56")  // the next row
        assertClose([0.5 / 14, 0.5 / 14], anchors[1568], 1e-15, "anchor 1568")  // stride 16
        for k in 1960..<1966 {
            assertClose([0.5 / 7, 0.5 / 7], anchors[k], 1e-15, "anchor \(k)")  // three layers of stride 32
        }
        assertClose([1.5 / 7, 0.5 / 7], anchors[1966], 1e-15, "anchor 1966")
        assertClose([6.5 / 7, 6.5 / 7], anchors[2253], 1e-15, "anchor 2253")
    }

    func testLogitsAreClippedAndTheThresholdScoreIsKept() throws {
        XCTAssertEqual(0.5, BlazePose.sigmoid(0.0))
        XCTAssertEqual(1.0 / (1.0 + exp(-100.0)), BlazePose.sigmoid(1e6))
        XCTAssertEqual(1.0 / (1.0 + exp(100.0)), BlazePose.sigmoid(-1e6))
        XCTAssertTrue(BlazePose.sigmoid(-1e6) > 0)
        var boxes = [Float](repeating: 0, count: 2254 * 12)
        var scores = [Float](repeating: -30, count: 2254)
        boxes.replaceSubrange(0..<12, with: [4, -6, 40, 44, 3, 50, 2, -30, 1, 20, 0.5, -15] as [Float])
        scores[0] = 0  // exactly 0.5: kept
        scores[1] = -0.001  // just below: dropped
        scores[5] = 1e6  // clipped to 100
        scores[6] = Float.nan  // never kept
        let hits = try BlazePose.decode(try DetectorOutput(boxes: boxes, scores: scores))
        XCTAssertEqual([0, 5], hits.map { $0.anchor })
        XCTAssertEqual([0.5, 1.0], hits.map { $0.score })
        // anchor (1/56, 1/56) = (4/224, 4/224); centre (8, -2)/224, half size (20, 22)/224
        assertClose([-12.0 / 224, -24.0 / 224, 28.0 / 224, 20.0 / 224], hits[0].box, 1e-12, "box")
        assertClose([7.0 / 224, 54.0 / 224], hits[0].keypoints[0], 1e-15, "keypoint 0")
        assertClose([4.5 / 224, -11.0 / 224], hits[0].keypoints[3], 1e-15, "keypoint 3")
        XCTAssertThrowsError(try DetectorOutput(boxes: [Float](repeating: 0, count: 2254 * 12), scores: [Float](repeating: 0, count: 2253)))
    }

    func testSuppressionMergesOverlapsByScoreWeight() throws {
        let a = hit(0, 0.75, [0.0, 0.0, 1.0, 1.0], 0.0, 0.0)
        let b = hit(1, 0.25, [0.1, 0.0, 1.1, 1.0], 0.4, 0.8)  // IoU 0.9 / 1.1 with a
        let c = hit(2, 0.5, [2.0, 2.0, 3.0, 3.0], 1.0, 1.0)
        let empty = hit(3, 0.2, [0.5, 0.5, 0.5, 0.5], 0.5, 0.5)  // no area: IoU 0, still itself
        let merged = BlazePose.weightedSuppression([b, c, a, empty])
        XCTAssertEqual([0, 2, 3], merged.map { $0.anchor })
        XCTAssertEqual([0.75, 0.5, 0.2], merged.map { $0.score })
        assertClose([0.025, 0.0, 1.025, 1.0], merged[0].box, 1e-15, "merged box")
        assertClose([0.1, 0.2], merged[0].keypoints[2], 1e-15, "merged keypoint")
        XCTAssertEqual(c.box, merged[1].box)
        XCTAssertEqual(0.9 / 1.1, BlazePose.iou(a.box, b.box), accuracy: 1e-12)
        XCTAssertEqual(0.0, BlazePose.iou(empty.box, empty.box))
    }

    func testOneBodySeenTwiceIsOnePerson() throws {
        let weaker = person(0.6, 100.0, 100.0, 100.0)
        let stronger = person(0.9, 110.0, 100.0, 100.0)  // body boxes [15, 15, 170, 170] and [25, 15, 170, 170]: IoU 0.89
        let apart = person(0.7, 400.0, 100.0, 50.0)
        XCTAssertEqual([0.9, 0.7], BlazePose.onePerBody([weaker, apart, stronger]).map { $0.score })
        XCTAssertTrue(BlazePose.anybody([apart]))
        XCTAssertFalse(BlazePose.anybody([person(0.4, 0.0, 0.0, 1.0)]))
        XCTAssertFalse(BlazePose.anybody([]))
    }

    func testBodyBoxRegionAndClip() throws {
        let body = person(0.9, 100.0, 100.0, 100.0)
        assertClose([15.0, 15.0, 170.0, 170.0], body.cropBox, 1e-12, "crop box")  // half side 0.85 x 100
        assertClose([-25.0, -25.0, 250.0, 250.0], body.region, 1e-12, "region")  // half side 1.25 x 100
        assertClose([0.0, 0.0, 200.0, 150.0], body.personBox(width: 200, height: 150), 1e-12, "person box")
        XCTAssertEqual([0.0, 20.0, 30.0, 40.0], BlazePose.clipBox([-10.0, 20.0, 50.0, 100.0], width: 30, height: 60))
        XCTAssertEqual([30.0, 60.0, 0.0, 0.0], BlazePose.clipBox([40.0, 70.0, 5.0, 5.0], width: 30, height: 60))
    }

    func testLetterboxKeepsTheAspectWithBlackBorders() throws {
        let portrait = try Letterbox(width: 480, height: 640)
        assertClose([0.35, 0.0, 28.0, 0.0, 0.35, 0.0], portrait.affine.m, 1e-12, "affine")
        XCTAssertEqual([0.125, 0.0, 0.125, 0.0], portrait.padding)
        assertClose([0.0, 0.0], portrait.removeFrom(0.125, 0.0), 1e-15, "top left")
        assertClose([1.0, 1.0], portrait.removeFrom(0.875, 1.0), 1e-15, "bottom right")
        // a white sensor frame turned upright (48 x 64): white in the middle, black (-1) in the side bands
        let white = try PixelBuffer(bytes: [UInt8](repeating: 255, count: 64 * 48 * 4), width: 64, height: 48, pixelStride: 4)
        let input = try BlazePose.pack(white, rotationDegrees: 90)
        XCTAssertEqual(224 * 224 * 3, input.count)
        XCTAssertEqual(1, input[(112 * 224 + 112) * 3])
        XCTAssertEqual(-1, input[(112 * 224 + 10) * 3 + 2])
        XCTAssertEqual(-1, input[(112 * 224 + 214) * 3 + 1])
        let noise = try PixelBuffer(bytes: seededBytes(64 * 48 * 3, seed: 5), width: 64, height: 48)
        let turn = try Orientation.bufferToUpright(width: 64, height: 48, degrees: 270)
        let levels = InputPacker.pack(noise, bufferToCrop: turn.then(try Letterbox(width: 48, height: 64).affine), size: 224)
        XCTAssertEqual(levels.map { Float($0) / 127.5 - 1 }, try BlazePose.pack(noise, rotationDegrees: 270))
    }

    func testTracksKeepTheirIdsAndRunTheDetectorOnlyWhenDue() throws {
        let a = [100.0, 100.0, 100.0, 200.0]
        let b = [400.0, 100.0, 100.0, 200.0]
        let tracks = try Tracks(width: 640, height: 480)
        var calls = 0
        let first = try tracks.boxes(index: 0) {
            calls += 1
            return [a, b]
        }
        XCTAssertEqual([0, 1], first.map { $0.id })
        XCTAssertTrue(try tracks.foundNow(0))
        let joints = [[110.0, 110.0], [190.0, 290.0]]  // hull 80 x 180, widened 1.2x
        XCTAssertTrue(try tracks.follow(0, joints: joints, confidence: [0.5, 0.5]))
        assertClose([102.0, 92.0, 96.0, 216.0], tracks.tracks[0].box, 1e-9, "followed box")
        let next = try tracks.boxes(index: 1) {
            calls += 1
            return []
        }
        XCTAssertEqual(1, calls)
        XCTAssertFalse(try tracks.foundNow(0))
        assertClose([102.0, 92.0, 96.0, 216.0], next[0].box, 1e-9, "box cut")
        // frame 10: the detector is due; its boxes come in the other order and are matched by overlap
        let moved = try tracks.boxes(index: 10) {
            calls += 1
            return [[410.0, 100.0, 100.0, 200.0], [110.0, 100.0, 100.0, 200.0]]
        }
        XCTAssertEqual(2, calls)
        XCTAssertEqual([0, 1], moved.map { $0.id })
        XCTAssertEqual([110.0, 100.0, 100.0, 200.0], moved[0].box)
        XCTAssertEqual(0.9 / 1.1, Tracks.overlap(a, moved[0].box), accuracy: 1e-12)
        XCTAssertThrowsError(try tracks.foundNow(7))
    }

    func testALostTrackIsCutAgainOnlyWhenTheDetectorFindsIt() throws {
        let a = [100.0, 100.0, 100.0, 200.0]
        let joints = [[110.0, 110.0], [190.0, 290.0]]
        let tracks = try Tracks(width: 640, height: 480)
        _ = try tracks.boxes(index: 0) { return [a] }
        XCTAssertTrue(try tracks.follow(0, joints: joints, confidence: [0.01, 0.01]))  // unsure, but found in this frame: shown
        XCTAssertTrue(tracks.tracks[0].lost)
        var ran = 0
        for frame in 1...3 {
            let cut = try tracks.boxes(index: frame) {
                ran += 1
                return []
            }
            XCTAssertTrue(cut.isEmpty)  // missed
        }
        XCTAssertEqual(3, ran)
        XCTAssertTrue(tracks.tracks.isEmpty)  // missed three times in a row: ended
        let found = try tracks.boxes(index: 4) { return [a] }
        XCTAssertEqual([1], found.map { $0.id })  // ids are never reused
        _ = try tracks.boxes(index: 5) { throw PoseCoreError("not due") }
        let away = joints.map { [$0[0] + 1000.0, $0[1]] }
        XCTAssertFalse(try tracks.follow(1, joints: away, confidence: [0.5, 0.5]))  // out of the frame and not found now: not shown
        XCTAssertTrue(tracks.tracks[0].lost)
    }

    func testEqualOverlapsGoToTheLaterTrackAsInPython() throws {
        let a = [100.0, 100.0, 100.0, 200.0]
        let tracks = try Tracks(width: 640, height: 480)
        _ = try tracks.boxes(index: 0) { return [a, a] }
        _ = try tracks.boxes(index: 10) { return [a] }
        XCTAssertFalse(try tracks.foundNow(0))
        XCTAssertTrue(try tracks.foundNow(1))
        XCTAssertEqual([1, 0], tracks.tracks.map { $0.missed })
    }
}
