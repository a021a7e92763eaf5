import Foundation
import PoseCore
import TensorFlowLite

/// PoseCore's DetectorRunner over TensorFlowLiteSwift's `Interpreter` on XNNPACK CPU threads: MediaPipe's
/// pose_detection.tflite (input 1 x 224 x 224 x 3 float32, outputs 1 x 2254 x 12 boxes and 1 x 2254 x 1 score logits).
/// The model has no signature and TF's output names (Identity, Identity_1), so the two outputs are told apart by
/// their last dimension, as mhp.infer.blazepose does.
final class TFLiteDetector: DetectorRunner {
    private let interpreter: Interpreter
    private let boxesAt: Int
    private let scoresAt: Int

    init(modelPath: String, threads: Int) throws {
        let file = ModelAssets.detectorFile
        var options = Interpreter.Options()
        options.threadCount = threads
        options.isXNNPackEnabled = true
        let interpreter: Interpreter
        do {
            interpreter = try Interpreter(modelPath: modelPath, options: options)
            try interpreter.allocateTensors()
        } catch {
            throw AppError("the person detector \(file) cannot run on the CPU: \(error.localizedDescription)")
        }
        let side = BlazePose.inputSize
        let input = try interpreter.input(at: 0)
        guard interpreter.inputTensorCount == 1, input.dataType == .float32, input.shape.dimensions == [1, side, side, 3] else {
            throw AppError("\(file) takes \(input.shape.dimensions) \(input.dataType), not [1, \(side), \(side), 3] float32: run make detector and copy it again")
        }
        let outputs = try (0..<interpreter.outputTensorCount).map { try interpreter.output(at: $0) }
        boxesAt = try TFLiteDetector.output(outputs, values: BlazePose.boxValues)
        scoresAt = try TFLiteDetector.output(outputs, values: 1)
        self.interpreter = interpreter
    }

    /// The index of the float32 output holding one `values`-wide row per anchor.
    private static func output(_ outputs: [Tensor], values: Int) throws -> Int {
        let index = outputs.firstIndex { tensor in
            let dimensions = tensor.shape.dimensions
            return tensor.dataType == .float32 && dimensions.last == values && dimensions.reduce(1, *) == BlazePose.numAnchors * values
        }
        guard let found = index else {
            let shapes = outputs.map { "\($0.shape.dimensions)" }.joined(separator: ", ")
            throw AppError("\(ModelAssets.detectorFile) has no \(BlazePose.numAnchors)x\(values) float32 output (it has \(shapes))")
        }
        return found
    }

    func run(_ input: [Float]) throws -> DetectorOutput {
        try interpreter.copy(input.withUnsafeBufferPointer { Data(buffer: $0) }, toInputAt: 0)
        try interpreter.invoke()
        return try DetectorOutput(boxes: floats(boxesAt), scores: floats(scoresAt))
    }

    private func floats(_ index: Int) throws -> [Float] {
        let data = try interpreter.output(at: index).data
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }
}
