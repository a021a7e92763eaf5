import Foundation

/// Person boxes [x, y, w, h] in upright frame pixels, as mhp.infer.boxes: a centred square, or the previous joints' hull.
public enum Boxes {
    /// With the model's 1.25 crop expansion the crop of this box is exactly the centred square of the frame.
    public static let centredFraction = 0.8

    /// Joints stop short of the head top and the soles: their hull is widened to a person box.
    public static let jointBoxMargin = 1.2

    public static func centred(width: Int, height: Int) -> [Double] {
        let side = centredFraction * Double(min(width, height))
        return [(Double(width) - side) / 2, (Double(height) - side) / 2, side, side]
    }

    public static func fromJoints(_ joints: [[Double]], margin: Double = Boxes.jointBoxMargin) -> [Double] {
        let xs = joints.map { $0[0] }
        let ys = joints.map { $0[1] }
        let (left, right) = (xs.min() ?? 0, xs.max() ?? 0)
        let (top, bottom) = (ys.min() ?? 0, ys.max() ?? 0)
        let w = max(right - left, 1.0) * margin
        let h = max(bottom - top, 1.0) * margin
        let cx = (right + left) / 2
        let cy = (bottom + top) / 2
        return [cx - w / 2, cy - h / 2, w, h]
    }
}

/// One person through the camera feed: the centred box first, then the box of the previous frame's joints (as
/// BlazePose tracks); back to the centred box when the mean confidence drops below `minConfidence` or the pose
/// leaves the frame.
public final class BoxTracker {
    public static let minConfidence = 0.05

    private let width: Int
    private let height: Int
    private let threshold: Double
    public private(set) var box: [Double]
    public private(set) var resets = 0

    public init(width: Int, height: Int, minConfidence: Double = BoxTracker.minConfidence) {
        self.width = width
        self.height = height
        threshold = minConfidence
        box = Boxes.centred(width: width, height: height)
    }

    /// Moves the box to this frame's joints; true when the track was lost and re-initialised.
    @discardableResult
    public func update(joints: [[Double]], confidence: [Double]) -> Bool {
        let next = Boxes.fromJoints(joints)
        let inside = next[0] < Double(width) && next[1] < Double(height) && next[0] + next[2] > 0 && next[1] + next[3] > 0
        let mean = confidence.reduce(0, +) / Double(confidence.count)
        if mean < threshold || !inside {
            box = Boxes.centred(width: width, height: height)
            resets += 1
            return true
        }
        box = next
        return false
    }
}
