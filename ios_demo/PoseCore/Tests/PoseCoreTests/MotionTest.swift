import XCTest
@testable import PoseCore

final class MotionTest: XCTestCase {
    func testOneEuroPassesTheFirstSampleAndConstantsAndSmoothsJitter() {
        let filter = OneEuroFilter(minCutoff: 1.0, beta: 0.0)
        assertClose([3.0, -1.0], filter.filter([3.0, -1.0], t: 0.0), 1e-12, "first sample")
        assertClose([3.0, -1.0], filter.filter([3.0, -1.0], t: 1.0 / 30), 1e-12, "constant")
        let jittery = OneEuroFilter(minCutoff: 1.0, beta: 0.0)
        var spread = 0.0
        for i in 0..<300 {
            let noisy = 100.0 + (i % 2 == 0 ? 2.0 : -2.0)
            let out = jittery.filter([noisy], t: Double(i) / 30.0)[0]
            if i > 50 {
                spread = max(spread, abs(out - 100.0))
            }
        }
        XCTAssertTrue(spread < 0.5, "jitter left: \(spread)")
    }

    func testFpsMeterCountsFramesOverItsWindow() {
        var now: Int64 = 0
        let meter = FpsMeter(window: 5) { now }
        XCTAssertEqual(0.0, meter.tick())
        var fps = 0.0
        for _ in 0..<10 {
            now += 40_000_000  // 25 frames per second
            fps = meter.tick()
        }
        XCTAssertEqual(25.0, fps, accuracy: 1e-9)
    }

    func testProjectionTurnsDepthIntoWidthAtNinetyDegrees() {
        assertClose([2.0, 4.0], Projection.project([1.0, 2.0, 3.0], yawDegrees: 0.0, pitchDegrees: 0.0, scale: 2.0), 1e-9, "front")
        assertClose([3.0, 2.0], Projection.project([1.0, 2.0, 3.0], yawDegrees: 90.0, pitchDegrees: 0.0, scale: 1.0), 1e-9, "side")
        XCTAssertEqual(-4.5, Dequant.toFloat(-1, scale: 0.5, zeroPoint: 8), accuracy: 1e-12)
    }
}
