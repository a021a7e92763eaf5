import Foundation

/// Voxel coordinates (x, y, z) and the peak-voxel probability of every joint.
public struct Decoded {
    public let coords: [[Double]]
    public let confidence: [Double]

    public init(coords: [[Double]], confidence: [Double]) {
        self.coords = coords
        self.confidence = confidence
    }

    /// The outputs of a model that decodes in its graph: coords (1, J, 3) and confidence (1, J), flattened.
    public static func fromFlat(_ coords: [Float], _ confidence: [Float]) throws -> Decoded {
        try require(coords.count == confidence.count * 3, "coords hold \(coords.count) values for \(confidence.count) joints")
        return Decoded(
            coords: (0..<confidence.count).map { j in (0..<3).map { Double(coords[j * 3 + $0]) } },
            confidence: confidence.map { Double($0) }
        )
    }
}

/// Decodes the model's NHWC heatmap output (1, H, W, J*D), channel j*D + d, as mhp's Python reference does
/// (mhp/runtime/decode.py): one softmax per joint over its volume, then the expected index along x, y and z. The
/// buffer is read in memory order: once for every joint's peak, once more adding each channel's weight and its x and
/// y moments; the depth moment and the totals come from the per-channel sums.
public struct HeatmapDecoder {
    public let height: Int
    public let width: Int
    public let joints: Int
    public let depth: Int

    public init(height: Int, width: Int, joints: Int, depth: Int) {
        self.height = height
        self.width = width
        self.joints = joints
        self.depth = depth
    }

    private func index(_ y: Int, _ x: Int, _ j: Int, _ d: Int) -> Int {
        (y * width + x) * joints * depth + j * depth + d
    }

    /// Float32 logits.
    public func softArgmax(_ logits: [Float]) -> Decoded {
        let peaks = self.peaks { Double(logits[$0]) }
        return moments(peaks) { i, peak in exp(Double(logits[i]) - peak) }
    }

    /// Int8 logits with their scale: subtracting each joint's peak cancels the zero point, and every weight
    /// exp(scale * (q - peak)) is read from a table (q - peak is a whole number from -255 to 0).
    public func softArgmax(_ quantised: [Int8], scale: Double) -> Decoded {
        let table = (0...(Int(Int8.max) - Int(Int8.min))).map { exp(-scale * Double($0)) }
        let peaks = self.peaks { Double(quantised[$0]) }
        return moments(peaks) { i, peak in table[Int(peak) - Int(quantised[i])] }
    }

    /// Every joint's largest value over its volume.
    private func peaks(_ value: (Int) -> Double) -> [Double] {
        var peaks = [Double](repeating: -Double.infinity, count: joints)
        var i = 0
        for _ in 0..<(height * width) {
            for j in 0..<joints {
                for _ in 0..<depth {
                    peaks[j] = Swift.max(peaks[j], value(i))
                    i += 1
                }
            }
        }
        return peaks
    }

    /// The softmax moments from `weight` (element index, its joint's peak) -> exp(value - peak).
    private func moments(_ peaks: [Double], _ weight: (Int, Double) -> Double) -> Decoded {
        let channels = joints * depth
        var sum = [Double](repeating: 0, count: channels)
        var sumX = [Double](repeating: 0, count: channels)
        var sumY = [Double](repeating: 0, count: channels)
        var i = 0
        for y in 0..<height {
            for x in 0..<width {
                for j in 0..<joints {
                    let peak = peaks[j]
                    for c in (j * depth)..<((j + 1) * depth) {
                        let w = weight(i, peak)
                        i += 1
                        sum[c] += w
                        sumX[c] += w * Double(x)
                        sumY[c] += w * Double(y)
                    }
                }
            }
        }
        var coords: [[Double]] = []
        var confidence: [Double] = []
        for j in 0..<joints {
            var total = 0.0
            var sx = 0.0
            var sy = 0.0
            var sz = 0.0
            for d in 0..<depth {
                let c = j * depth + d
                total += sum[c]
                sx += sumX[c]
                sy += sumY[c]
                sz += sum[c] * Double(d)
            }
            coords.append([sx / total, sy / total, sz / total])
            confidence.append(1.0 / total)
        }
        return Decoded(coords: coords, confidence: confidence)
    }

    /// The most likely voxel (x, y, z) of every joint; ties go to the first in (y, x, z) order.
    public func argmax(_ logits: [Float]) -> [[Int]] {
        argmax(reading: { Double(logits[$0]) })
    }

    public func argmax(_ quantised: [Int8]) -> [[Int]] {
        argmax(reading: { Double(quantised[$0]) })
    }

    private func argmax(reading value: (Int) -> Double) -> [[Int]] {
        (0..<joints).map { j -> [Int] in
            var best = -Double.infinity
            var found = [0, 0, 0]
            forEachVoxel { y, x, d in
                let v = value(index(y, x, j, d))
                if v > best {
                    best = v
                    found = [x, y, d]
                }
            }
            return found
        }
    }

    private func forEachVoxel(_ action: (Int, Int, Int) -> Void) {
        for y in 0..<height {
            for x in 0..<width {
                for d in 0..<depth {
                    action(y, x, d)
                }
            }
        }
    }
}

/// Int8 tensors: real = (q - zeroPoint) * scale.
public enum Dequant {
    public static func toFloat(_ q: Int8, scale: Double, zeroPoint: Int) -> Double {
        Double(Int(q) - zeroPoint) * scale
    }
}
