import Foundation
import PoseCore
import TensorFlowLite
import TensorFlowLiteC

/// LiteRT over the artifact's first signature, with XNNPACK CPU threads or the Metal or CoreML delegate.
///
/// Tensors go through TensorFlowLiteC, the C API under TensorFlowLiteSwift: the Swift `Tensor` has no int8 type, and
/// the INT8 artifact's heatmaps are int8. The delegates are TensorFlowLiteSwift's. Neither API says which nodes a
/// delegate took (LiteRT only logs it to stderr), so the app labels Metal and the CoreML delegate "(delegation not
/// reported by TensorFlowLiteSwift)" (DelegationReport) rather than claim the whole graph runs on the accelerator.
final class TFLiteRunner: ModelRunner, DeviceModel {
    let inputs: [TensorSpec]
    let outputs: [TensorSpec]
    /// The input tensor's quantisation as LiteRT reports it.
    let inputQuantisation: (scale: Double, zeroPoint: Int)
    private let manifest: ModelManifest
    private let choice: RuntimeChoice
    private let decoder: HeatmapDecoder?
    private let interpreter: OpaquePointer
    private let signature: OpaquePointer
    private let xnnpack: UnsafeMutablePointer<TfLiteDelegate>?
    /// The Metal or CoreML delegate, kept alive as long as the interpreter that uses it.
    private let accelerator: Delegate?
    /// Every manifest output of the last run: its bytes and its quantisation scale.
    private var results: [String: ([UInt8], Double)] = [:]

    init(artifact: URL, manifest: ModelManifest, choice: RuntimeChoice) throws {
        guard let model = TfLiteModelCreateFromFile(artifact.path) else {
            throw AppError("\(artifact.lastPathComponent) is not a TFLite model LiteRT can load")
        }
        defer { TfLiteModelDelete(model) }
        guard let options = TfLiteInterpreterOptionsCreate() else {
            throw AppError("LiteRT could not create interpreter options")
        }
        defer { TfLiteInterpreterOptionsDelete(options) }
        let (xnnpack, accelerator) = try TFLiteRunner.delegates(for: choice, options: options)
        if let delegate = xnnpack ?? accelerator?.cDelegate {
            TfLiteInterpreterOptionsAddDelegate(options, delegate)
        }
        guard let interpreter = TfLiteInterpreterCreate(model, options) else {
            TfLiteXNNPackDelegateDelete(xnnpack)
            throw AppError("LiteRT could not build an interpreter for \(artifact.lastPathComponent) with \(choice.label)")
        }
        guard TfLiteInterpreterGetSignatureCount(interpreter) > 0,
              let key = TfLiteInterpreterGetSignatureKey(interpreter, 0),
              let signature = TfLiteInterpreterGetSignatureRunner(interpreter, key),
              TfLiteSignatureRunnerAllocateTensors(signature) == kTfLiteOk
        else {
            TfLiteInterpreterDelete(interpreter)
            TfLiteXNNPackDelegateDelete(xnnpack)
            throw AppError("\(artifact.lastPathComponent) has no usable signature: re-export it with mhp-export")
        }
        // the input tensor's quantisation, which ModelManifest.checkArtifact wants scale 1 / zero point 0 (or 0 / 0:
        // not quantised, the float artifacts' uint8 input); read here, checked by ModelLoader
        inputQuantisation = TFLiteRunner.quantisation(signature, manifest.input.name)
        self.interpreter = interpreter
        self.signature = signature
        self.xnnpack = xnnpack
        self.accelerator = accelerator
        self.manifest = manifest
        self.choice = choice
        inputs = (0..<TfLiteSignatureRunnerGetInputCount(signature)).compactMap { index in
            TfLiteSignatureRunnerGetInputName(signature, Int32(index)).flatMap { name in
                TfLiteSignatureRunnerGetInputTensor(signature, name).map { TFLiteRunner.spec(String(cString: name), UnsafePointer($0)) }
            }
        }
        outputs = (0..<TfLiteSignatureRunnerGetOutputCount(signature)).compactMap { index in
            TfLiteSignatureRunnerGetOutputName(signature, Int32(index)).flatMap { name in
                TfLiteSignatureRunnerGetOutputTensor(signature, name).map { TFLiteRunner.spec(String(cString: name), $0) }
            }
        }
        if manifest.decodesOnDevice, let heatmaps = manifest.outputs.first, heatmaps.shape.count == 4 {
            decoder = HeatmapDecoder(
                height: heatmaps.shape[1], width: heatmaps.shape[2], joints: manifest.skeleton.names.count, depth: manifest.depthBins
            )
        } else {
            decoder = nil
        }
    }

    /// The named input tensor's quantisation (scale, zero point); (0, 0) when it is not quantised or not found (a
    /// missing input is reported by ModelManifest.mismatch).
    private static func quantisation(_ signature: OpaquePointer, _ name: String) -> (scale: Double, zeroPoint: Int) {
        name.withCString { cName -> (scale: Double, zeroPoint: Int) in
            guard let tensor = TfLiteSignatureRunnerGetInputTensor(signature, cName) else {
                return (scale: 0, zeroPoint: 0)
            }
            let params = TfLiteTensorQuantizationParams(UnsafePointer(tensor))
            return (scale: Double(params.scale), zeroPoint: Int(params.zero_point))
        }
    }

    /// XNNPACK on the chosen threads, or the Metal or CoreML delegate (TensorFlowLiteSwift's classes).
    private static func delegates(
        for choice: RuntimeChoice, options: OpaquePointer
    ) throws -> (UnsafeMutablePointer<TfLiteDelegate>?, Delegate?) {
        switch choice {
        case let .xnnpack(threads):
            TfLiteInterpreterOptionsSetNumThreads(options, Int32(threads))
            var settings = TfLiteXNNPackDelegateOptionsDefault()
            settings.num_threads = Int32(threads)
            return (TfLiteXNNPackDelegateCreate(&settings), nil)
        case .metal:
            return (nil, MetalDelegate())
        case .coreMLDelegate:
            var settings = CoreMLDelegate.Options()
            settings.enabledDevices = .all
            guard let delegate = CoreMLDelegate(options: settings) else {
                throw AppError("the CoreML delegate is not available on this device")
            }
            return (nil, delegate)
        case .coreML:
            throw AppError("a TFLite model runs on LiteRT: pick XNNPACK, Metal or the CoreML delegate")
        }
    }

    deinit {
        TfLiteSignatureRunnerDelete(signature)
        TfLiteInterpreterDelete(interpreter)
        TfLiteXNNPackDelegateDelete(xnnpack)
    }

    func run(_ input: [UInt8]) throws {
        let copied = manifest.input.name.withCString { name -> TfLiteStatus in
            guard let tensor = TfLiteSignatureRunnerGetInputTensor(signature, name) else {
                return kTfLiteError
            }
            return input.withUnsafeBytes { TfLiteTensorCopyFromBuffer(tensor, $0.baseAddress, $0.count) }
        }
        guard copied == kTfLiteOk else {
            throw AppError("could not copy \(input.count) bytes into the input tensor '\(manifest.input.name)'")
        }
        // a delegate that fails inside invoke returns an error status (TfLiteStatus), never a trap: it is thrown, and
        // FallbackModel reloads the artifact on XNNPACK
        guard TfLiteSignatureRunnerInvoke(signature) == kTfLiteOk else {
            throw AppError("LiteRT failed to run the model on \(choice.label)")
        }
        for output in manifest.outputs {
            results[output.name] = try copyOutput(output.name)
        }
    }

    func decode() throws -> Decoded {
        if let decoder = decoder, let heatmaps = manifest.outputs.first {
            if heatmaps.dtype == "int8" {
                let (values, scale): ([Int8], Double) = try result(heatmaps.name)
                return decoder.softArgmax(values, scale: scale)
            }
            let (values, _): ([Float], Double) = try result(heatmaps.name)
            return decoder.softArgmax(values)
        }
        guard manifest.outputs.count == 2 else {
            throw AppError("the manifest lists \(manifest.outputs.count) outputs; in-graph decoding has coords and confidence")
        }
        let (coords, _): ([Float], Double) = try result(manifest.outputs[0].name)
        let (confidence, _): ([Float], Double) = try result(manifest.outputs[1].name)
        return try Decoded.fromFlat(coords, confidence)
    }

    /// The output tensor's bytes and its quantisation scale, copied out after a run (part of the timed call).
    private func copyOutput(_ name: String) throws -> ([UInt8], Double) {
        try name.withCString { cName -> ([UInt8], Double) in
            guard let tensor = TfLiteSignatureRunnerGetOutputTensor(signature, cName) else {
                throw AppError("the model has no output '\(name)'")
            }
            var bytes = [UInt8](repeating: 0, count: TfLiteTensorByteSize(tensor))
            let status = bytes.withUnsafeMutableBytes { TfLiteTensorCopyToBuffer(tensor, $0.baseAddress, $0.count) }
            guard status == kTfLiteOk else {
                throw AppError("could not read the output '\(name)' (\(bytes.count) bytes)")
            }
            return (bytes, Double(TfLiteTensorQuantizationParams(tensor).scale))
        }
    }

    /// The last run's output as elements of its type.
    private func result<Element>(_ name: String) throws -> ([Element], Double) {
        guard let entry = results[name], entry.0.count % MemoryLayout<Element>.stride == 0 else {
            throw AppError("no output '\(name)' of \(Element.self) from the last run")
        }
        return (entry.0.withUnsafeBytes { Array($0.bindMemory(to: Element.self)) }, entry.1)
    }

    private static func spec(_ name: String, _ tensor: UnsafePointer<TfLiteTensor>) -> TensorSpec {
        let shape = (0..<TfLiteTensorNumDims(tensor)).map { Int(TfLiteTensorDim(tensor, $0)) }
        return TensorSpec(name: name, shape: shape, dtype: dtypeName(TfLiteTensorType(tensor)))
    }

    /// The manifest's spelling of a LiteRT element type.
    private static func dtypeName(_ type: TfLiteType) -> String {
        switch type {
        case kTfLiteUInt8: return "uint8"
        case kTfLiteInt8: return "int8"
        case kTfLiteFloat32: return "float32"
        case kTfLiteFloat16: return "float16"
        case kTfLiteInt32: return "int32"
        default: return "tflite type \(type.rawValue)"
        }
    }
}
