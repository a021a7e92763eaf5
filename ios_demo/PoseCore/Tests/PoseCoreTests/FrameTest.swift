import XCTest
@testable import PoseCore

final class FrameTest: XCTestCase {
    private let width = 40
    private let height = 30
    private lazy var rgb = seededBytes(width * height * 3, seed: 7)

    /// The frame turned clockwise by `degrees`, pixel by pixel (what the upright camera image looks like).
    private func turned(_ degrees: Int) throws -> PixelBuffer {
        let size = try Orientation.uprightSize(width: width, height: height, degrees: degrees)
        var out = [UInt8](repeating: 0, count: size[0] * size[1] * 3)
        let toUpright = try Orientation.bufferToUpright(width: width, height: height, degrees: degrees)
        for y in 0..<height {
            for x in 0..<width {
                let p = toUpright.apply(Double(x), Double(y))
                let u = Int(p[0].rounded())
                let v = Int(p[1].rounded())
                for c in 0..<3 {
                    out[(v * size[0] + u) * 3 + c] = rgb[(y * width + x) * 3 + c]
                }
            }
        }
        return try PixelBuffer(bytes: out, width: size[0], height: size[1])
    }

    func testPackingThroughTheTurnEqualsPackingTheTurnedFrame() throws {
        let frame = try PixelBuffer(bytes: rgb, width: width, height: height)
        let whole = CropMath.cropAffine([0.0, 0.0, 30.0, 30.0], size: 30)  // pixel centres onto pixel centres
        let quarter = try Orientation.bufferToUpright(width: width, height: height, degrees: 90)
        XCTAssertEqual(Array(try turned(90).bytes.prefix(30 * 30 * 3)), InputPacker.pack(frame, bufferToCrop: quarter.then(whole), size: 30))
        for degrees in [0, 90, 180, 270, -90] {
            let upright = try turned(degrees)
            let crop = CropMath.cropAffine([3.5, 2.0, 21.0, 21.0], size: 16)
            let direct = InputPacker.pack(upright, bufferToCrop: crop, size: 16)
            let turn = try Orientation.bufferToUpright(width: width, height: height, degrees: degrees)
            let throughTurn = InputPacker.pack(frame, bufferToCrop: turn.then(crop), size: 16)
            // the same bilinear sums in another order: exact .5 ties (1/16-pixel steps here) may round one level apart
            let diffs = zip(direct, throughTurn).map { abs(Int($0) - Int($1)) }
            let differing = diffs.filter { $0 > 0 }.count
            XCTAssertTrue((diffs.max() ?? 0) <= 1 && differing < direct.count / 20, "rotation \(degrees): \(differing) values differ")
        }
        XCTAssertEqual([30, 40], try Orientation.uprightSize(width: width, height: height, degrees: 270))
        XCTAssertThrowsError(try Orientation.bufferToUpright(width: width, height: height, degrees: 45))
    }

    func testTurnsMapCornersToCorners() throws {
        let quarter = try Orientation.bufferToUpright(width: width, height: height, degrees: 90)
        assertClose([Double(height) - 1.0, 0.0], quarter.apply(0.0, 0.0), 1e-12, "top-left goes top-right")
        assertClose([0.0, Double(width) - 1.0], quarter.apply(Double(width) - 1.0, Double(height) - 1.0), 1e-12, "bottom-right")
    }

    func testRgbaWithPaddedRowsPacksLikeRgb() throws {
        let rowStride = width * 4 + 12
        var rgba = [UInt8](repeating: 0x5A, count: rowStride * height)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<3 {
                    rgba[y * rowStride + x * 4 + c] = rgb[(y * width + x) * 3 + c]
                }
            }
        }
        let box = try XCTUnwrap(CropMath.processBox([5.0, 4.0, 20.0, 24.0], imageWidth: width, imageHeight: height))
        let crop = CropMath.cropAffine(box, size: 24)
        let expected = InputPacker.pack(try PixelBuffer(bytes: rgb, width: width, height: height), bufferToCrop: crop, size: 24)
        let padded = try PixelBuffer(bytes: rgba, width: width, height: height, pixelStride: 4, rowStride: rowStride)
        XCTAssertEqual(expected, InputPacker.pack(padded, bufferToCrop: crop, size: 24))
        XCTAssertThrowsError(try PixelBuffer(bytes: [UInt8](repeating: 0, count: 10), width: width, height: height))
    }

    func testAffineThenComposesInOrder() {
        let scale = Affine([2.0, 0.0, 0.0, 0.0, 2.0, 0.0])
        let shift = Affine([1.0, 0.0, 5.0, 0.0, 1.0, -1.0])
        assertClose([7.0, 5.0], scale.then(shift).apply(1.0, 3.0), 1e-12, "scale then shift")
        assertClose([12.0, 4.0], shift.then(scale).apply(1.0, 3.0), 1e-12, "shift then scale")
        let round = shift.then(scale).then(shift.then(scale).inverse())
        assertClose([1.0, 3.0], round.apply(1.0, 3.0), 1e-12, "round trip")
    }

    func testViewFitFillsCentresAndMirrors() {
        // a 480x640 portrait frame shown in a 1080x1920 view: scale 3 (height), 180 px cut on each side
        let fit = ViewFit(frameWidth: 480, frameHeight: 640, viewWidth: 1080, viewHeight: 1920, mirrored: false)
        assertClose([-180.0, 0.0], fit.map(0.0, 0.0), 1e-9, "corner")
        assertClose([540.0, 960.0], fit.map(240.0, 320.0), 1e-9, "centre")
        let mirror = ViewFit(frameWidth: 480, frameHeight: 640, viewWidth: 1080, viewHeight: 1920, mirrored: true)
        assertClose([1080.0 + 180.0, 0.0], mirror.map(0.0, 0.0), 1e-9, "mirrored corner")
        XCTAssertEqual(540.0, mirror.map(240.0, 320.0)[0], accuracy: 1e-9)
    }

    func testLensIntrinsicsUseTheLongSide() throws {
        let lens = try Intrinsics.fromLens(width: 480, height: 640, focalMm: 4.0, sensorLongSideMm: 6.4)
        assertClose([400.0, 400.0], lens.focal, 1e-9, "focal")
        assertClose([240.0, 320.0], lens.principal, 1e-9, "principal")
        XCTAssertThrowsError(try Intrinsics.fromFov(width: 640, height: 480, fovDegrees: 0.5))
    }

    func testDegenerateBoxesAreRefusedAndPackBlack() throws {
        let nan = Double.nan
        let inf = Double.infinity
        let bad: [[Double]] = [
            [nan, 10, 50, 80], [10, 10, inf, 80], [10, -inf, 50, 80], [10, 10, 0, 80], [10, 10, 50, -3], [700, 10, 50, 80],
        ]
        for box in bad {
            XCTAssertNil(CropMath.processBox(box, imageWidth: 640, imageHeight: 480), "\(box)")
        }
        // the fallback is the centred box's crop: widened to a square and expanded x 1.25, like any processed box
        let centred = CropMath.centredCrop(imageWidth: 480, imageHeight: 640)
        assertClose(try XCTUnwrap(CropMath.processBox(Boxes.centred(width: 480, height: 640), imageWidth: 480, imageHeight: 640)), centred, 0.0, "centred crop")
        XCTAssertEqual((0.8 * 480 - 1) * CropMath.expansion, centred[2], accuracy: 1e-9)
        XCTAssertEqual(239.5, centred[0] + centred[2] / 2, accuracy: 1e-9)  // the centre of pixels 0..479
        XCTAssertEqual(319.5, centred[1] + centred[3] / 2, accuracy: 1e-9)
        // a NaN or empty crop box packs a black input instead of trapping in Int(floor(.nan))
        let frame = try PixelBuffer(bytes: [UInt8](repeating: 100, count: 48 * 64 * 3), width: 48, height: 64)
        for box: [Double] in [[nan, 0, 10, 10], [5, 5, 0, 0], [0, 0, inf, inf]] {
            let packed = InputPacker.pack(frame, bufferToCrop: CropMath.cropAffine(box, size: 16), size: 16)
            XCTAssertTrue(packed.allSatisfy { $0 == 0 }, "\(box)")
        }
        let far = Affine([1.0, 0.0, -1e300, 0.0, 1.0, 1e300])  // finite but far beyond Int's range
        XCTAssertTrue(InputPacker.pack(frame, bufferToCrop: far, size: 8).allSatisfy { $0 == 0 })
        XCTAssertTrue(InputPacker.pack(frame, bufferToCrop: Affine([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]), size: 8).allSatisfy { $0 == 100 })
    }

    func testFallbackFovSpansTheLongSideInPortraitAndLandscape() throws {
        // 65 degrees across the long side (as mhp.infer.camera.default_intrinsics): one camera, one focal length
        let expected = 320.0 / tan(32.5 / 180.0 * Double.pi)
        let landscape = try Intrinsics.fromFov(width: 640, height: 480)
        let portrait = try Intrinsics.fromFov(width: 480, height: 640)
        assertClose([expected, expected], landscape.focal, 1e-9, "landscape focal")
        assertClose([expected, expected], portrait.focal, 1e-9, "portrait focal")
        assertClose([240.0, 320.0], portrait.principal, 1e-9, "portrait principal")
        assertClose([150.0, 150.0], try Intrinsics.fromFov(width: 300, height: 300, fovDegrees: 90.0).focal, 1e-9, "90 degrees")
    }

    func testInGraphOutputsBecomeDecodedJoints() throws {
        let decoded = try Decoded.fromFlat([1, 2, 3, 4, 5, 6], [0.5, 0.25])
        XCTAssertEqual([4.0, 5.0, 6.0], decoded.coords[1])
        XCTAssertEqual([0.5, 0.25], decoded.confidence)
        XCTAssertThrowsError(try Decoded.fromFlat([Float](repeating: 0, count: 5), [0, 0]))
    }
}
