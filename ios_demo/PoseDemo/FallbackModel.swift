import PoseCore

/// A runtime that fails loudly but never crashes: when the chosen accelerator (LiteRT's Metal or CoreML delegate, or
/// CoreML on the GPU / Neural Engine) throws at `run` (LiteRT's invoke, CoreML's prediction), the model is loaded
/// again on the CPU, the frame is run there, and `notice` says so on screen. A failure on the CPU is the frame's error.
final class FallbackModel: ModelRunner {
    private var current: DeviceModel
    /// The CPU runtime and its loader; nil when `current` already runs on the CPU, or once it has fallen back.
    private var cpu: (choice: RuntimeChoice, load: () throws -> DeviceModel)?
    /// The runtime `current` runs on: the chosen one, then the CPU fallback's.
    private var choice: RuntimeChoice
    /// Set once the accelerator failed (at load or at run): the one line the app shows.
    private(set) var notice: String?

    /// `choice`: what `model` runs on; `cpu`: nil when `model` already runs on the CPU.
    init(
        _ model: DeviceModel, choice: RuntimeChoice, cpu: (choice: RuntimeChoice, load: () throws -> DeviceModel)?,
        notice: String? = nil
    ) {
        current = model
        self.choice = choice
        self.cpu = cpu
        self.notice = notice
    }

    /// What runs now, for the delegation line (read on the frame queue, like `run`).
    var running: RunningModel {
        RunningModel(choice: choice, compiledModel: (current as? CoreMLRunner)?.compiledModel)
    }

    func run(_ input: [UInt8]) throws {
        do {
            try current.run(input)
        } catch {
            guard let fallback = cpu else {
                throw error
            }
            let accelerator = choice.label
            let load = fallback.load
            cpu = nil  // one fallback, never a loop
            current = try load()
            choice = fallback.choice
            notice = "\(accelerator) failed while running (\(error.localizedDescription)): running on \(fallback.choice.label) instead."
            try current.run(input)
        }
    }

    func decode() throws -> Decoded {
        try current.decode()
    }
}
