import PoseCore

/// A loaded artifact: what the pipeline runs, and the tensors the model really has (checked against the manifest).
protocol DeviceModel: ModelRunner {
    var inputs: [TensorSpec] { get }
    var outputs: [TensorSpec] { get }
}
