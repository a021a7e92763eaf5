import CoreML

/// How an artifact runs: LiteRT on XNNPACK CPU threads or through its Metal or CoreML delegate, or a CoreML package
/// on chosen compute units. The names are the ones benchmark rows use (benchmarks/README.md).
enum RuntimeChoice: Hashable, Identifiable {
    case xnnpack(threads: Int)
    case metal
    case coreMLDelegate
    case coreML(MLComputeUnits)

    /// What the UI offers for an artifact of this format (`tflite` or `coreml`).
    static func choices(forFormat format: String) -> [RuntimeChoice] {
        if format == "coreml" {
            return [.coreML(.all), .coreML(.cpuAndNeuralEngine), .coreML(.cpuAndGPU), .coreML(.cpuOnly)]
        }
        return [.xnnpack(threads: 1), .xnnpack(threads: 2), .xnnpack(threads: 4), .metal, .coreMLDelegate]
    }

    var id: String { label }

    var label: String {
        switch self {
        case let .xnnpack(threads): return "CPU \(threads) thread\(threads == 1 ? "" : "s")"
        case .metal: return "Metal (GPU)"
        case .coreMLDelegate: return "CoreML delegate"
        case let .coreML(units): return "CoreML \(RuntimeChoice.unitsName(units))"
        }
    }

    /// The row's `delegate`: xnnpack, gpu, coreml for LiteRT; the MLComputeUnits name for CoreML.
    var benchDelegate: String {
        switch self {
        case .xnnpack: return "xnnpack"
        case .metal: return "gpu"
        case .coreMLDelegate: return "coreml"
        case let .coreML(units): return RuntimeChoice.unitsName(units)
        }
    }

    /// The row's `threads`: the CPU threads of XNNPACK, none for the accelerators.
    var benchThreads: Int? {
        if case let .xnnpack(threads) = self {
            return threads
        }
        return nil
    }

    /// Where the app runs the artifact when this accelerator fails (at load or at run): XNNPACK on two threads for
    /// LiteRT's delegates, CoreML on the CPU only for CoreML; nil for the CPU choices themselves.
    var cpuFallback: RuntimeChoice? {
        switch self {
        case .xnnpack, .coreML(.cpuOnly): return nil
        case .metal, .coreMLDelegate: return .xnnpack(threads: 2)
        case .coreML: return .coreML(.cpuOnly)
        }
    }

    static func unitsName(_ units: MLComputeUnits) -> String {
        switch units {
        case .cpuOnly: return "cpuOnly"
        case .cpuAndGPU: return "cpuAndGPU"
        case .cpuAndNeuralEngine: return "cpuAndNeuralEngine"
        case .all: return "all"
        @unknown default: return "units \(units.rawValue)"
        }
    }
}
