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
    /// The manifest's `version` (-1 when it has none); `checkArtifact` refuses one other than `supportedVersion`.
    public let version: Int
    /// The sha256 (lower-case hex) of the artifact the manifest was written for; nil when the export recorded none.
    public let artifactSha256: String?
    /// `input.normalization.inside_graph`: the artifact normalises 0-255 pixels itself (the app feeds raw RGB).
    public let normalizationInsideGraph: Bool

    /// The export-manifest version this core reads (mhp.runtime.manifest.VERSION).
    public static let supportedVersion = 1

    /// The heatmap artifacts (full INT8) need the soft-argmax in the app; the others output coordinates.
    public var decodesOnDevice: Bool { decode == "host_soft_argmax" }

    /// The run-time checks an app makes before it feeds the model, each refused with a one-line PoseCoreError: an
    /// `artifactSha256` of the model file (lower-case hex) other than the manifest's (a model copied over by hand, an
    /// interrupted export; skipped when either is nil: a CoreML model Xcode compiled has no exported bytes on the
    /// device, and mhp's own read_manifest skips a manifest without one), a manifest version this core does not read,
    /// a uint8 input quantised other than scale 1 / zero point 0 (the app writes raw 0-255 pixels; scale 0 / zero
    /// point 0 means "not quantised", as LiteRT reports for the fp32 export's uint8 input, and is accepted), and
    /// normalisation outside the graph (the app does not normalise). `inputScale` and `inputZeroPoint` are the
    /// interpreter's input tensor quantisation.
    ///
    /// PoseCore imports Foundation only, so the app computes the digest (CryptoKit:
    /// `SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()`); Kotlin's posecore takes the same hex
    /// string and offers `sha256Hex(bytes)` (java.security.MessageDigest) beside it.
    public func checkArtifact(artifactSha256: String?, inputScale: Double, inputZeroPoint: Int) throws {
        try require(
            version == ModelManifest.supportedVersion,
            "the model manifest has version \(version), this app reads version \(ModelManifest.supportedVersion); "
                + "export the model with the mhp this app was built with"
        )
        if let expected = self.artifactSha256, let actual = artifactSha256 {
            let clean = { (hex: String) in hex.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() }
            try require(
                clean(actual) == clean(expected),
                "the model file is not the one its manifest was written for (sha256 \(actual.prefix(12))..., the manifest "
                    + "says \(expected.prefix(12))...); copy the model and its manifest from one mhp-export run"
            )
        }
        if input.dtype == "uint8" {
            let raw = (inputScale == 1.0 || inputScale == 0.0) && inputZeroPoint == 0
            try require(
                raw,
                "the model's uint8 input is quantised with scale \(inputScale) and zero point \(inputZeroPoint); the app "
                    + "feeds raw 0-255 pixels (scale 1, zero point 0): re-export with mhp-export"
            )
        }
        try require(
            normalizationInsideGraph,
            "the model expects normalised pixels (input.normalization.inside_graph is false); the app feeds raw 0-255 "
                + "RGB: export the model with mhp-export"
        )
    }

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
            skeleton: try Skeleton.fromJson(try root.object("joints").values),
            version: root.values["version"] as? Int ?? -1,
            artifactSha256: root.values["artifact_sha256"] as? String,
            normalizationInsideGraph: (input.values["normalization"] as? [String: Any])?["inside_graph"] as? Bool ?? false
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
/// `bufferToCrop`, black outside it (as OpenCV's warpAffine with a constant border), packed NHWC uint8 RGB. A crop
/// pixel whose source is not a finite point near the buffer (a degenerate map: NaN, infinite, singular) stays black.
public enum InputPacker {
    public static func pack(_ frame: PixelBuffer, bufferToCrop: Affine, size: Int) -> [UInt8] {
        let toBuffer = bufferToCrop.inverse()
        var out = [UInt8](repeating: 0, count: size * size * 3)
        for v in 0..<size {
            for u in 0..<size {
                let p = toBuffer.apply(Double(u), Double(v))
                // every neighbour outside the buffer (or NaN) samples black; Int(floor(.nan)) would trap
                if !(p[0] > -1.0 && p[0] < Double(frame.width) && p[1] > -1.0 && p[1] < Double(frame.height)) {
                    continue
                }
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
