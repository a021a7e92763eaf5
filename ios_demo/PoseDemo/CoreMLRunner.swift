import CoreML
import CoreVideo
import Foundation
import PoseCore

/// A compiled CoreML package on the chosen compute units. Its input is an RGB image: the packed crop is copied into
/// a reused BGRA pixel buffer of the model's size, and CoreML reorders the channels.
final class CoreMLRunner: ModelRunner, DeviceModel {
    let inputs: [TensorSpec]
    let outputs: [TensorSpec]
    /// The compiled model (.mlmodelc) this runs, whose compute plan DelegationReport reads (outside any timer).
    let compiledModel: URL
    private let model: MLModel
    private let manifest: ModelManifest
    private let image: CVPixelBuffer
    /// The last prediction's outputs, read out inside the timed call.
    private var results: [String: [Float]] = [:]
    /// Outputs the model declares with flexible (range or enumerated) or unknown shapes: their real shape is checked
    /// against the manifest on the first prediction instead of at load.
    private var unchecked: Set<String>

    init(compiledModel: URL, manifest: ModelManifest, computeUnits: MLComputeUnits) throws {
        let configuration = MLModelConfiguration()
        configuration.computeUnits = computeUnits
        let loaded = try MLModel(contentsOf: compiledModel, configuration: configuration)
        model = loaded
        self.compiledModel = compiledModel
        self.manifest = manifest
        let declared = [manifest.input] + manifest.outputs
        var flexible: Set<String> = []
        inputs = loaded.modelDescription.inputDescriptionsByName.values.map { CoreMLRunner.spec($0, declared, &flexible) }
        outputs = loaded.modelDescription.outputDescriptionsByName.values.map { CoreMLRunner.spec($0, declared, &flexible) }
        unchecked = flexible
        var buffer: CVPixelBuffer?
        let attributes = [kCVPixelBufferIOSurfacePropertiesKey as String: [String: Any]()] as CFDictionary
        let size = manifest.inputSize
        guard CVPixelBufferCreate(kCFAllocatorDefault, size, size, kCVPixelFormatType_32BGRA, attributes, &buffer) == kCVReturnSuccess,
              let created = buffer
        else {
            throw AppError("could not allocate the \(size)x\(size) input image")
        }
        image = created
    }

    func run(_ input: [UInt8]) throws {
        let size = manifest.inputSize
        guard input.count == size * size * 3 else {
            throw AppError("the packed crop has \(input.count) bytes, not \(size)x\(size)x3")
        }
        CVPixelBufferLockBaseAddress(image, [])
        if let base = CVPixelBufferGetBaseAddress(image) {
            let rowBytes = CVPixelBufferGetBytesPerRow(image)
            let pixels = base.assumingMemoryBound(to: UInt8.self)
            for y in 0..<size {
                for x in 0..<size {
                    let from = (y * size + x) * 3
                    let to = y * rowBytes + x * 4
                    pixels[to] = input[from + 2]
                    pixels[to + 1] = input[from + 1]
                    pixels[to + 2] = input[from]
                    pixels[to + 3] = 255
                }
            }
        }
        CVPixelBufferUnlockBaseAddress(image, [])
        let features = try MLDictionaryFeatureProvider(dictionary: [manifest.input.name: MLFeatureValue(pixelBuffer: image)])
        let prediction = try model.prediction(from: features)
        for output in manifest.outputs {
            guard let array = prediction.featureValue(for: output.name)?.multiArrayValue else {
                throw AppError("the CoreML model gave no output '\(output.name)'")
            }
            if unchecked.contains(output.name) {
                let actual = array.shape.map { $0.intValue }
                guard actual == output.shape else {
                    throw AppError(
                        "the CoreML output '\(output.name)' is \(actual) on the first prediction, \(output.shape) in the manifest: re-export it with mhp-export"
                    )
                }
                unchecked.remove(output.name)
            }
            results[output.name] = MLShapedArray<Float>(converting: array).scalars
        }
    }

    func decode() throws -> Decoded {
        guard manifest.outputs.count == 2 else {
            throw AppError("the manifest lists \(manifest.outputs.count) outputs; CoreML artifacts output coords and confidence")
        }
        return try Decoded.fromFlat(try floats(manifest.outputs[0].name), try floats(manifest.outputs[1].name))
    }

    private func floats(_ name: String) throws -> [Float] {
        guard let values = results[name] else {
            throw AppError("no output '\(name)' from the last run")
        }
        return values
    }

    /// A CoreML feature as the manifest writes it: images as (1, 3, H, W) "image", arrays with their element type.
    ///
    /// An ML Program may leave an array's shape flexible: MLMultiArrayConstraint.shapeConstraint.type is `.range` or
    /// `.enumerated` (its `shape` is then only the default), or `shape` is empty (unknown). Such a feature is reported
    /// with the manifest's shape, so ModelManifest.mismatch still checks its name and element type, and its name goes
    /// into `flexible`, whose real shapes `run` checks on the first prediction.
    private static func spec(_ feature: MLFeatureDescription, _ declared: [TensorSpec], _ flexible: inout Set<String>) -> TensorSpec {
        switch feature.type {
        case .image:
            let constraint = feature.imageConstraint
            return TensorSpec(name: feature.name, shape: [1, 3, constraint?.pixelsHigh ?? 0, constraint?.pixelsWide ?? 0], dtype: "image")
        case .multiArray:
            guard let constraint = feature.multiArrayConstraint else {
                return TensorSpec(name: feature.name, shape: [], dtype: "array")
            }
            let dtype = dtypeName(constraint.dataType)
            let shape = constraint.shape.map { $0.intValue }
            let kind = constraint.shapeConstraint.type
            if kind == .range || kind == .enumerated || shape.isEmpty, let expected = declared.first(where: { $0.name == feature.name }) {
                flexible.insert(feature.name)
                return TensorSpec(name: feature.name, shape: expected.shape, dtype: dtype)
            }
            return TensorSpec(name: feature.name, shape: shape, dtype: dtype)
        default:
            return TensorSpec(name: feature.name, shape: [], dtype: "feature type \(feature.type.rawValue)")
        }
    }

    private static func dtypeName(_ type: MLMultiArrayDataType) -> String {
        switch type {
        case .float32: return "float32"
        case .float16: return "float16"
        case .double: return "float64"
        case .int32: return "int32"
        default: return "array type \(type.rawValue)"
        }
    }
}
