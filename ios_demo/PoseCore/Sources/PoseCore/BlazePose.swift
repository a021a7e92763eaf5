import Foundation

/// One person the detector found, in upright frame pixels: `score` in 0...1, the face `box` [x, y, w, h] and four
/// `keypoints` (x, y): 0 the mid-hip centre, 1 a point whose distance from it is the radius of the whole body's
/// circle, 2 and 3 the same for the upper body.
public struct Detection {
    public let score: Double
    public let box: [Double]
    public let keypoints: [[Double]]

    public init(score: Double, box: [Double], keypoints: [[Double]]) {
        self.score = score
        self.box = box
        self.keypoints = keypoints
    }

    /// The square the pose model is cut from (the tracker's box): see `BlazePose.bodyBox`.
    public var cropBox: [Double] { BlazePose.bodyBox(self) }

    /// MediaPipe's region: the crop box's square enlarged (regionMargin / cropMargin).
    public var region: [Double] { BlazePose.regionOf(cropBox) }

    /// The person box an app reports: the region's part inside the `width` x `height` frame.
    public func personBox(width: Int, height: Int) -> [Double] {
        BlazePose.clipBox(region, width: width, height: height)
    }
}

/// One anchor the decoder kept: its index, sigmoid score, box [x1, y1, x2, y2] and keypoints, normalised on the input.
public struct AnchorHit {
    public let anchor: Int
    public let score: Double
    public let box: [Double]
    public let keypoints: [[Double]]

    public init(anchor: Int, score: Double, box: [Double], keypoints: [[Double]]) {
        self.anchor = anchor
        self.score = score
        self.box = box
        self.keypoints = keypoints
    }
}

/// The detector model's raw outputs for one input: `boxes` 2254 x 12 (x, y, w, h, 4 keypoints) and `scores` 2254 logits.
public struct DetectorOutput {
    public let boxes: [Float]
    public let scores: [Float]

    public init(boxes: [Float], scores: [Float]) throws {
        try require(
            scores.count == BlazePose.numAnchors && boxes.count == BlazePose.numAnchors * BlazePose.boxValues,
            "detector outputs hold \(boxes.count) box values and \(scores.count) scores, not \(BlazePose.numAnchors) x \(BlazePose.boxValues) and \(BlazePose.numAnchors)"
        )
        self.boxes = boxes
        self.scores = scores
    }
}

/// MediaPipe's person detector (pose_detection.tflite) as the pipeline sees it: `run` takes the letterboxed input of
/// `BlazePose.pack` (1 x 224 x 224 x 3 float32, NHWC RGB in [-1, 1]) and gives both raw outputs.
public protocol DetectorRunner: AnyObject {
    func run(_ input: [Float]) throws -> DetectorOutput
}

/// The image -> input letterbox of a `width` x `height` frame: the `affine` and the `padding` [left, top, right, bottom]
/// as fractions of the input.
public struct Letterbox {
    public let width: Int
    public let height: Int
    public let size: Int

    public init(width: Int, height: Int, size: Int = BlazePose.inputSize) throws {
        try require(width > 0 && height > 0 && size > 0, "letterbox of \(width)x\(height) into \(size) pixels: sizes must be positive")
        self.width = width
        self.height = height
        self.size = size
        let side = Double(max(width, height))
        let dx = side - Double(width)
        let dy = side - Double(height)
        padding = [dx, dy, dx, dy].map { $0 / (2 * side) }
    }

    public var affine: Affine {
        let side = Double(max(width, height))
        let scale = Double(size) / side
        return Affine([scale, 0.0, (side - Double(width)) / 2 * scale, 0.0, scale, (side - Double(height)) / 2 * scale])
    }

    /// Computed once: `removeFrom` reads it for every box corner and keypoint of every detection.
    public let padding: [Double]

    /// Normalised (x, y) on the letterboxed input -> normalised on the frame.
    public func removeFrom(_ x: Double, _ y: Double) -> [Double] {
        let pad = padding
        return [(x - pad[0]) / (1.0 - pad[0] - pad[2]), (y - pad[1]) / (1.0 - pad[1] - pad[3])]
    }
}

/// BlazePose's detector post-processing, as mhp.infer.blazepose (MediaPipe's pose-detection graph): SSD anchors, the
/// letterboxed input, the decode of the raw outputs, weighted suppression, one detection per body, and the boxes.
public enum BlazePose {
    public static let inputSize = 224
    public static let numAnchors = 2254
    public static let numKeypoints = 4
    public static let boxValues = 4 + 2 * numKeypoints
    public static let scoreClip = 100.0

    /// A person is there when a detection scores this (mhp's presence rule; MediaPipe's graph keeps 0.2).
    public static let minScore = 0.5
    public static let suppressionIou = 0.3

    /// Two detections whose body boxes overlap more are one person seen twice (e.g. upright and inverted).
    public static let bodyIou = 0.5

    /// The pose model's box: the body circle's square shrunk to the joints.
    public static let cropMargin = 0.85

    /// MediaPipe's region: the body circle's square enlarged.
    public static let regionMargin = 1.25
    public static let strides = [8, 16, 32, 32, 32]

    /// The anchor centres (x, y) in [0, 1], in the model's output order; computed once.
    public static let anchors: [[Double]] = ssdAnchors()

    /// Layers of one stride share a grid: two anchors per cell and layer, centres at cell + 0.5, row by row.
    public static func ssdAnchors(inputSize: Int = BlazePose.inputSize, strides: [Int] = BlazePose.strides) -> [[Double]] {
        var centres: [[Double]] = []
        var layer = 0
        while layer < strides.count {
            var same = layer
            while same < strides.count && strides[same] == strides[layer] {
                same += 1
            }
            let stride = max(strides[layer], 1)
            let cells = (inputSize + stride - 1) / stride
            let perCell = 2 * (same - layer)
            for y in 0..<max(cells, 0) {
                for x in 0..<max(cells, 0) {
                    let centre = [(Double(x) + 0.5) / Double(cells), (Double(y) + 0.5) / Double(cells)]
                    centres += Array(repeating: centre, count: perCell)
                }
            }
            layer = same
        }
        return centres
    }

    /// The detector's input from a camera buffer: the upright frame letterboxed into `size` x `size` with the same
    /// bilinear sampling as `InputPacker` (black border), NHWC RGB float32 in [-1, 1] (value / 127.5 - 1).
    public static func pack(_ frame: PixelBuffer, rotationDegrees: Int, size: Int = BlazePose.inputSize) throws -> [Float] {
        let upright = try Orientation.uprightSize(width: frame.width, height: frame.height, degrees: rotationDegrees)
        let toInput = try Orientation.bufferToUpright(width: frame.width, height: frame.height, degrees: rotationDegrees)
            .then(try Letterbox(width: upright[0], height: upright[1], size: size).affine)
        let levels = InputPacker.pack(frame, bufferToCrop: toInput, size: size)
        return levels.map { Float($0) / 127.5 - 1 }
    }

    /// The sigmoid of a logit clipped to +-`scoreClip` (no overflow).
    public static func sigmoid(_ logit: Double) -> Double {
        let clipped = logit.isNaN ? logit : min(max(logit, -scoreClip), scoreClip)
        return 1.0 / (1.0 + exp(-clipped))
    }

    /// The anchors scoring at least `minScore`: box and keypoints relative to the anchor, x first, over the input side.
    public static func decode(
        _ output: DetectorOutput, minScore: Double = BlazePose.minScore, anchors: [[Double]] = BlazePose.anchors
    ) throws -> [AnchorHit] {
        try require(anchors.count == numAnchors, "\(anchors.count) anchors for \(numAnchors) outputs")
        var hits: [AnchorHit] = []
        for i in 0..<numAnchors {
            let score = sigmoid(Double(output.scores[i]))
            if !(score >= minScore) {
                continue
            }
            let v = (0..<boxValues).map { Double(output.boxes[i * boxValues + $0]) / Double(inputSize) }
            let ax = anchors[i][0]
            let ay = anchors[i][1]
            let cx = v[0] + ax
            let cy = v[1] + ay
            let box = [cx - v[2] / 2, cy - v[3] / 2, cx + v[2] / 2, cy + v[3] / 2]
            let points = (0..<numKeypoints).map { [v[4 + 2 * $0] + ax, v[5 + 2 * $0] + ay] }
            hits.append(AnchorHit(anchor: i, score: score, box: box, keypoints: points))
        }
        return hits
    }

    /// Intersection over union of two [x1, y1, x2, y2] boxes; 0 when the union is empty.
    public static func iou(_ a: [Double], _ b: [Double]) -> Double {
        let inter = max(min(a[2], b[2]) - max(a[0], b[0]), 0.0) * max(min(a[3], b[3]) - max(a[1], b[1]), 0.0)
        let union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
        return union > 0 ? inter / union : 0.0
    }

    /// MediaPipe's weighted suppression: best first (stable), each hit with every remaining one overlapping it by more
    /// than `threshold` IoU replaced by their score-weighted mean box and keypoints, with the best one's score and anchor.
    public static func weightedSuppression(_ hits: [AnchorHit], threshold: Double = BlazePose.suppressionIou) -> [AnchorHit] {
        var order = bestFirst(hits) { $0.score }
        var merged: [AnchorHit] = []
        while let best = order.first {
            let overlap = order.enumerated().map { $0.offset == 0 || iou(best.box, $0.element.box) > threshold }
            let group = zip(order, overlap).filter { $0.1 }.map { $0.0 }
            let total = group.reduce(0.0) { $0 + $1.score }
            let weights = group.map { $0.score / total }
            let box = (0..<4).map { c in zip(group, weights).reduce(0.0) { $0 + $1.0.box[c] * $1.1 } }
            let points = (0..<best.keypoints.count).map { p in
                (0..<2).map { c in zip(group, weights).reduce(0.0) { $0 + $1.0.keypoints[p][c] * $1.1 } }
            }
            merged.append(AnchorHit(anchor: best.anchor, score: best.score, box: box, keypoints: points))
            order = zip(order, overlap).filter { !$0.1 }.map { $0.0 }
        }
        return merged
    }

    /// The whole post-processing for a `width` x `height` upright frame: decode, suppress, undo the letterbox, pixels,
    /// one per body.
    public static func detections(
        _ output: DetectorOutput, width: Int, height: Int, minScore: Double = BlazePose.minScore
    ) throws -> [Detection] {
        let letterbox = try Letterbox(width: width, height: height)
        func pixels(_ x: Double, _ y: Double) -> [Double] {
            let p = letterbox.removeFrom(x, y)
            return [p[0] * Double(width), p[1] * Double(height)]
        }
        let people = weightedSuppression(try decode(output, minScore: minScore)).map { hit -> Detection in
            let low = pixels(hit.box[0], hit.box[1])
            let high = pixels(hit.box[2], hit.box[3])
            return Detection(
                score: hit.score,
                box: [low[0], low[1], high[0] - low[0], high[1] - low[1]],
                keypoints: hit.keypoints.map { pixels($0[0], $0[1]) }
            )
        }
        let finite = people.filter { d in d.box.allSatisfy { $0.isFinite } && d.keypoints.allSatisfy { $0.allSatisfy { $0.isFinite } } }
        return onePerBody(finite)
    }

    /// Best first, each detection dropped whose body box overlaps a kept one's by more than `threshold` IoU (one body
    /// seen twice).
    public static func onePerBody(_ detections: [Detection], threshold: Double = BlazePose.bodyIou) -> [Detection] {
        var kept: [Detection] = []
        for detection in bestFirst(detections, { $0.score }) {
            let box = corners(bodyBox(detection))
            if kept.allSatisfy({ iou(box, corners(bodyBox($0))) <= threshold }) {
                kept.append(detection)
            }
        }
        return kept
    }

    /// The upright square [x, y, w, h] around the body circle (centre: the hip keypoint; radius: its distance to
    /// keypoint 1), scaled by `margin`; an empty box at the origin for a detection without both keypoints.
    public static func bodyBox(_ detection: Detection, margin: Double = BlazePose.cropMargin) -> [Double] {
        let points = detection.keypoints
        guard points.count >= 2, points[0].count >= 2, points[1].count >= 2 else {
            return [0.0, 0.0, 0.0, 0.0]
        }
        let hip = points[0]
        let dx = points[1][0] - hip[0]
        let dy = points[1][1] - hip[1]
        let half = margin * (dx * dx + dy * dy).squareRoot()
        return [hip[0] - half, hip[1] - half, 2 * half, 2 * half]
    }

    /// The region of a `cropMargin` body box: the same centre, the side scaled by regionMargin / cropMargin.
    public static func regionOf(_ box: [Double]) -> [Double] {
        let scale = regionMargin / cropMargin
        let halfW = box[2] / 2 * scale
        let halfH = box[3] / 2 * scale
        let cx = box[0] + box[2] / 2
        let cy = box[1] + box[3] / 2
        return [cx - halfW, cy - halfH, 2 * halfW, 2 * halfH]
    }

    /// The part of [x, y, w, h] inside a `width` x `height` frame.
    public static func clipBox(_ box: [Double], width: Int, height: Int) -> [Double] {
        let w = Double(width)
        let h = Double(height)
        let x1 = min(max(box[0], 0.0), w)
        let y1 = min(max(box[1], 0.0), h)
        let x2 = min(max(box[0] + box[2], 0.0), w)
        let y2 = min(max(box[1] + box[3], 0.0), h)
        return [x1, y1, x2 - x1, y2 - y1]
    }

    /// Whether anybody is there: a detection scoring at least `minScore`.
    public static func anybody(_ detections: [Detection], minScore: Double = BlazePose.minScore) -> Bool {
        detections.contains { $0.score >= minScore }
    }

    /// [x, y, w, h] -> [x1, y1, x2, y2].
    public static func corners(_ box: [Double]) -> [Double] {
        [box[0], box[1], box[0] + box[2], box[1] + box[3]]
    }

    /// Highest `score` first; equal scores keep their order (Swift's sort is not documented as stable).
    private static func bestFirst<T>(_ items: [T], _ score: (T) -> Double) -> [T] {
        items.enumerated()
            .sorted { a, b in
                let (sa, sb) = (score(a.element), score(b.element))
                return sa != sb ? sa > sb : a.offset < b.offset
            }
            .map { $0.element }
    }
}
