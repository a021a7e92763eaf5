import Foundation

/// A tensor's signature name, shape and element type (`float32`, `int8`, `uint8`).
public struct TensorSpec: Equatable, CustomStringConvertible {
    public let name: String
    public let shape: [Int]
    public let dtype: String

    public init(name: String, shape: [Int], dtype: String) {
        self.name = name
        self.shape = shape
        self.dtype = dtype
    }

    public var description: String { "\(name) \(joined(shape)) \(dtype)" }
}

/// A shape as `1x16x16x576`.
func joined(_ shape: [Int]) -> String {
    shape.map(String.init).joined(separator: "x")
}

/// The parts of an mhp export manifest (`<artifact>.json`) the app needs; every shape and name comes from here.
public struct ModelManifest {
    public let model: String
    public let format: String
    public let precision: String
    public let input: TensorSpec
    public let inputLayout: String
    public let outputs: [TensorSpec]
    public let decode: String
    public let inputSize: Int
    public let heatmapWidth: Int
    public let heatmapHeight: Int
    public let depthBins: Int
    public let depthRangeMm: Double
    public let skeleton: Skeleton

    /// The heatmap artifacts (full INT8) need the soft-argmax in the app; the others output coordinates.
    public var decodesOnDevice: Bool { decode == "host_soft_argmax" }

    /// Nil when the model's signature tensors are the manifest's, else what differs (the model and manifest disagree).
    public func mismatch(modelInputs: [TensorSpec], modelOutputs: [TensorSpec]) -> String? {
        let expectations: [(TensorSpec, [TensorSpec])] = [(input, modelInputs)] + outputs.map { ($0, modelOutputs) }
        for (expected, pool) in expectations {
            guard let actual = pool.first(where: { $0.name == expected.name }) else {
                return "the model has no tensor '\(expected.name)' (it has \(pool.map { $0.name }.joined(separator: ", ")))"
            }
            if actual != expected {
                return "tensor '\(expected.name)' is \(joined(actual.shape)) \(actual.dtype) in the model, "
                    + "\(joined(expected.shape)) \(expected.dtype) in the manifest"
            }
        }
        return nil
    }

    /// Parses a manifest; a malformed one throws a PoseCoreError naming what is wrong.
    public static func parse(_ text: String) throws -> ModelManifest {
        do {
            return try read(JsonObject(parsing: text))
        } catch let error as JsonError {
            throw PoseCoreError("not a valid mhp export manifest: \(error.message)")
        }
    }

    private static func read(_ root: JsonObject) throws -> ModelManifest {
        let formatName = root.optString("format_name")
        try require(formatName == "mhp-export-manifest", "not an mhp export manifest (format_name '\(formatName)')")
        let input = try root.object("input")
        let geometry = try root.object("geometry")
        let heatmap = try geometry.ints("heatmap_size")
        guard heatmap.count == 2 else {
            throw JsonError(message: "JSONObject[\"heatmap_size\"] is not [width, height].")
        }
        let manifest = ModelManifest(
            model: try root.string("model"),
            format: try root.string("format"),
            precision: try root.string("precision"),
            input: try tensor(input),
            inputLayout: try input.string("layout"),
            outputs: try root.objects("outputs").map { try tensor($0) },
            decode: try root.string("decode"),
            inputSize: try geometry.int("input_size"),
            heatmapWidth: heatmap[0],
            heatmapHeight: heatmap[1],
            depthBins: try geometry.int("depth_bins"),
            depthRangeMm: try geometry.double("depth_range_mm"),
            skeleton: try Skeleton.fromJson(try root.object("joints").values)
        )
        if manifest.decodesOnDevice {
            let channels = manifest.outputs.first?.shape.last ?? 0
            let expected = manifest.skeleton.names.count * manifest.depthBins
            try require(channels == expected, "heatmap output has \(channels) channels, not joints x depth bins = \(expected)")
        }
        return manifest
    }

    private static func tensor(_ record: JsonObject) throws -> TensorSpec {
        TensorSpec(name: try record.string("name"), shape: try record.ints("shape"), dtype: try record.string("dtype"))
    }
}

/// Cuts the model input from a camera frame: for every crop pixel, bilinear sampling of the buffer at the inverse of
/// `bufferToCrop`, black outside it (as OpenCV's warpAffine with a constant border), packed NHWC uint8 RGB.
public enum InputPacker {
    public static func pack(_ frame: PixelBuffer, bufferToCrop: Affine, size: Int) -> [UInt8] {
        let toBuffer = bufferToCrop.inverse()
        var out = [UInt8](repeating: 0, count: size * size * 3)
        for v in 0..<size {
            for u in 0..<size {
                let p = toBuffer.apply(Double(u), Double(v))
                let x0 = Int(floor(p[0]))
                let y0 = Int(floor(p[1]))
                let fx = p[0] - Double(x0)
                let fy = p[1] - Double(y0)
                for c in 0..<3 {
                    let top = Double(frame.at(x0, y0, c)) * (1 - fx) + Double(frame.at(x0 + 1, y0, c)) * fx
                    let bottom = Double(frame.at(x0, y0 + 1, c)) * (1 - fx) + Double(frame.at(x0 + 1, y0 + 1, c)) * fx
                    out[(v * size + u) * 3 + c] = UInt8(clamping: roundHalfUp(top * (1 - fy) + bottom * fy))
                }
            }
        }
        return out
    }
}

/// Java's Math.round: the nearest integer, halves rounded up (towards positive infinity).
func roundHalfUp(_ value: Double) -> Int {
    Int((value + 0.5).rounded(.down))
}
