import PoseCore

/// A runtime that fails loudly but never crashes: when the chosen accelerator (LiteRT's Metal or CoreML delegate, or
/// CoreML on the GPU / Neural Engine) throws at `run` (LiteRT's invoke, CoreML's prediction), the model is loaded
/// again on the CPU, the frame is run there, and `notice` says so on screen. A failure on the CPU is the frame's error.
final class FallbackModel: ModelRunner {
    private var current: DeviceModel
    private var cpu: (() throws -> DeviceModel)?
    private let accelerator: String
    /// Set once the accelerator failed (at load or at run): the one line the app shows.
    private(set) var notice: String?

    /// `cpu`: nil when `model` already runs on the CPU.
    init(_ model: DeviceModel, accelerator: String, cpu: (() throws -> DeviceModel)?, notice: String? = nil) {
        current = model
        self.accelerator = accelerator
        self.cpu = cpu
        self.notice = notice
    }

    func run(_ input: [UInt8]) throws {
        do {
            try current.run(input)
        } catch {
            guard let load = cpu else {
                throw error
            }
            cpu = nil  // one fallback, never a loop
            current = try load()
            notice = "\(accelerator) failed while running (\(error.localizedDescription)): running on the CPU instead."
            try current.run(input)
        }
    }

    func decode() throws -> Decoded {
        try current.decode()
    }
}
