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

/// One tracked person: `box` is where it is cut from in the next frame, `anchor` its last detection (what new
/// detections are matched to).
public final class Track {
    public let id: Int
    public internal(set) var box: [Double]
    public internal(set) var anchor: [Double]

    /// Detections in a row that did not find it.
    public internal(set) var missed = 0
    public internal(set) var lost = false

    /// Found by the detector in the current frame.
    public internal(set) var fresh = true

    public init(id: Int, box: [Double]) {
        self.id = id
        self.box = box
        anchor = box
    }
}

/// Several people through the camera feed with stable ids, as mhp.infer.tracking.Tracks: the detector runs on the
/// first frame, every `detectEvery` frames and on the frame after a track is lost; its boxes are matched to the tracks
/// by IoU with each track's last detection (greedy, best first, at least `minIou`); an unmatched box starts a track, a
/// track unmatched more than `maxMissed` detections in a row ends. Between detections a box follows its joints.
public final class Tracks {
    public static let detectEvery = 10
    public static let maxMissed = 2
    public static let minIou = 0.3

    private let width: Int
    private let height: Int
    private let threshold: Double
    private let every: Int
    private let missLimit: Int
    private let iouLimit: Double
    private var all: [Track] = []
    private var nextId = 0

    public init(
        width: Int,
        height: Int,
        minConfidence: Double = BoxTracker.minConfidence,
        detectEvery: Int = Tracks.detectEvery,
        maxMissed: Int = Tracks.maxMissed,
        minIou: Double = Tracks.minIou
    ) throws {
        try require(detectEvery > 0, "detectEvery \(detectEvery): the detector must run at least every frame count > 0")
        self.width = width
        self.height = height
        threshold = minConfidence
        every = detectEvery
        missLimit = maxMissed
        iouLimit = minIou
    }

    /// The live tracks, oldest (lowest id) first, lost ones included.
    public var tracks: [Track] { all }

    /// (track id, box) of every person to cut from frame `index`; `detect` (the body boxes in the frame) is called only
    /// when due.
    public func boxes(index: Int, detect: () throws -> [[Double]]) throws -> [(id: Int, box: [Double])] {
        for track in all {
            track.fresh = false
        }
        if all.isEmpty || index % every == 0 || all.contains(where: { $0.lost }) {
            try match(try detect())
        }
        return all.filter { !$0.lost }.map { (id: $0.id, box: $0.box) }
    }

    /// Assigns detections to tracks (best IoU first), starts tracks for the rest, ends long-missed tracks.
    public func match(_ found: [[Double]]) throws {
        for box in found {
            try require(box.count == 4, "a detected box has \(box.count) values, not [x, y, w, h]")
        }
        var pairs: [(score: Double, track: Int, box: Int)] = []
        for i in all.indices {
            for j in found.indices {
                pairs.append((score: Tracks.overlap(all[i].anchor, found[j]), track: i, box: j))
            }
        }
        // Python sorts the (iou, track, box) tuples in reverse: ties go to the later track, then the later box
        pairs.sort { a, b in
            if a.score != b.score {
                return a.score > b.score
            }
            return a.track != b.track ? a.track > b.track : a.box > b.box
        }
        var matchedTracks = Set<Int>()
        var matchedBoxes = Set<Int>()
        for pair in pairs {
            if pair.score < iouLimit {
                break
            }
            if matchedTracks.contains(pair.track) || matchedBoxes.contains(pair.box) {
                continue
            }
            matchedTracks.insert(pair.track)
            matchedBoxes.insert(pair.box)
            let track = all[pair.track]
            track.box = found[pair.box]
            track.anchor = found[pair.box]
            track.missed = 0
            track.lost = false
            track.fresh = true
        }
        for i in all.indices where !matchedTracks.contains(i) {
            all[i].missed += 1
        }
        all.removeAll { $0.missed > missLimit }
        for j in found.indices where !matchedBoxes.contains(j) {
            all.append(Track(id: nextId, box: found[j]))
            nextId += 1
        }
    }

    /// Whether the detector found this track's person in the current frame.
    public func foundNow(_ trackId: Int) throws -> Bool {
        try lookup(trackId).fresh
    }

    /// Moves the track to its person's joints, or marks it lost when the mean `confidence` is below the minimum or the
    /// joints' box is outside the frame; whether the person is shown: confident, or found by the detector this frame.
    public func follow(_ trackId: Int, joints: [[Double]], confidence: [Double]) throws -> Bool {
        try require(
            !joints.isEmpty && !confidence.isEmpty,
            "track \(trackId): a pose with \(joints.count) joints and \(confidence.count) confidences"
        )
        let track = try lookup(trackId)
        let next = Boxes.fromJoints(joints)
        let inside = next[0] < Double(width) && next[1] < Double(height) && next[0] + next[2] > 0 && next[1] + next[3] > 0
        let mean = confidence.reduce(0, +) / Double(confidence.count)
        if mean < threshold || !inside {
            track.lost = true
            return track.fresh
        }
        track.box = next
        return true
    }

    /// IoU of two [x, y, w, h] boxes.
    public static func overlap(_ a: [Double], _ b: [Double]) -> Double {
        BlazePose.iou(BlazePose.corners(a), BlazePose.corners(b))
    }

    private func lookup(_ trackId: Int) throws -> Track {
        guard let found = all.first(where: { $0.id == trackId }) else {
            throw PoseCoreError("no track \(trackId)")
        }
        return found
    }
}
