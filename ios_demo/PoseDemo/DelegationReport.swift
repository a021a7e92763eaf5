import CoreML
import Dispatch
import Foundation
import PoseCore

/// What runs the model now: the runtime and, for Core ML, the compiled model (.mlmodelc) whose compute plan says where
/// its operations go. A load or a CPU fallback changes it; the delegation line is measured again only then.
struct RunningModel: Equatable {
    let choice: RuntimeChoice
    let compiledModel: URL?
}

/// Partial delegation, measured where the runtime can tell it and said to be unknown where it cannot (issue 22).
///
/// - Core ML (iOS 17.4+): `MLComputePlan` gives every operation of the ML Program's main function (nested blocks
///   included) its preferred compute device. `onDelegate` = operations on the Neural Engine or the GPU, `total` =
///   operations that have a device (constants have none and are not counted), `partitions` = maximal runs of
///   consecutive operations on one side (the delegate or the CPU) in program order, as LiteRT counts its
///   partitions, unit "ops"; the line adds the Neural Engine / GPU split.
///   It is the plan Core ML makes for the configuration before running, not a trace of a prediction.
/// - LiteRT's Metal and CoreML delegates: TensorFlowLiteSwift's `Delegate` protocol exposes only `cDelegate`, its
///   `Interpreter` has no call that lists the nodes a delegate took, and neither does the TensorFlowLiteC API the app
///   drives; LiteRT only logs "Replacing N out of M node(s) with delegate …" to stderr. So the line says the
///   delegation is not reported instead of claiming the whole graph runs on the GPU / Neural Engine.
/// - XNNPACK: every node runs on the CPU (XNNPACK's or LiteRT's own kernels); there is no accelerator to report.
struct DelegationReport {
    /// The measured delegation (Core ML's compute plan); nil where there is none.
    let delegation: Delegation?
    /// The line the app shows under the runtime picker.
    let line: String

    static let liteRTNotReported = "(delegation not reported by TensorFlowLiteSwift)"

    /// What can be said without measuring: the CPU, an unreported LiteRT delegate, or Core ML while it is measured.
    static func pending(_ choice: RuntimeChoice) -> DelegationReport {
        switch choice {
        case .xnnpack:
            return DelegationReport(delegation: nil, line: "\(choice.label): all on the CPU (XNNPACK)")
        case .metal, .coreMLDelegate:
            return DelegationReport(delegation: nil, line: "\(choice.label) \(liteRTNotReported)")
        case .coreML:
            return DelegationReport(delegation: nil, line: "\(choice.label) · delegation: measuring…")
        }
    }

    /// Core ML's compute plan for `running` (async: never on the main thread's critical path, never inside a timer);
    /// anything else gets its `pending` line. Failures become "not reported (…)", never a crash.
    static func measure(_ running: RunningModel) async -> DelegationReport {
        guard case let .coreML(units) = running.choice else {
            return pending(running.choice)
        }
        let label = running.choice.label
        guard let compiled = running.compiledModel else {
            return unmeasured(label, "not reported (no compiled model)")
        }
        guard #available(iOS 17.4, *) else {
            return unmeasured(label, "needs iOS 17.4 (MLComputePlan)")
        }
        do {
            return try await planned(compiled, units, label)
        } catch {
            return unmeasured(label, "not reported (\(BenchmarkRunner.oneLine(error.localizedDescription)))")
        }
    }

    /// `measure` for the benchmark's serial queue (never the main thread): the measurement runs on Swift's
    /// concurrency pool and this queue waits for it, outside the benchmark's init_ms and latency timers.
    static func measureWaiting(_ running: RunningModel) -> DelegationReport {
        guard case .coreML = running.choice else {
            return pending(running.choice)
        }
        let done = DispatchSemaphore(value: 0)
        let box = ReportBox()
        // the waiting queue is userInitiated: the task gets the same priority (no priority inversion)
        Task.detached(priority: .userInitiated) {
            box.report = await DelegationReport.measure(running)
            done.signal()
        }
        // DispatchSemaphore.wait(timeout:) is .timedOut when the plan never comes: the row goes on without it
        guard done.wait(timeout: .now() + .seconds(60)) == .success else {
            return unmeasured(running.choice.label, "not reported (no compute plan within 60 s)")
        }
        return box.report ?? unmeasured(running.choice.label, "not reported")
    }

    /// The line when Core ML's delegation cannot be measured: `why` is "needs iOS 17.4 (MLComputePlan)", "not an ML
    /// Program" or "not reported (…)".
    static func unmeasured(_ label: String, _ why: String) -> DelegationReport {
        DelegationReport(delegation: nil, line: "\(label) · delegation: \(why)")
    }

    /// Where the compute plan puts one operation.
    enum Device: Equatable {
        case neuralEngine, gpu, cpu, other

        /// MLComputeDevice (iOS 17): `.cpu(MLCPUComputeDevice)`, `.gpu(MLGPUComputeDevice)`,
        /// `.neuralEngine(MLNeuralEngineComputeDevice)`; a device added later counts as off the delegate.
        @available(iOS 17.0, *)
        init(_ device: MLComputeDevice) {
            switch device {
            case .neuralEngine: self = .neuralEngine
            case .gpu: self = .gpu
            case .cpu: self = .cpu
            @unknown default: self = .other
            }
        }

        var onDelegate: Bool { self == .neuralEngine || self == .gpu }
    }

    /// The Delegation of operations placed in program order: Neural Engine + GPU on the delegate, partitions = runs
    /// of consecutive operations on the same side (delegate or CPU), so 1 is the whole program on one side. Throws PoseCoreError when Delegation refuses the counts.
    static func measured(_ devices: [Device], _ label: String) throws -> DelegationReport {
        guard !devices.isEmpty else {
            return unmeasured(label, "not reported (no operation has a device in the compute plan)")
        }
        let neuralEngine = devices.filter { $0 == .neuralEngine }.count
        let gpu = devices.filter { $0 == .gpu }.count
        var partitions = 0
        var previous: Bool?
        for device in devices {
            if device.onDelegate != previous {
                partitions += 1
            }
            previous = device.onDelegate
        }
        let delegation = try Delegation(onDelegate: neuralEngine + gpu, total: devices.count, partitions: partitions, unit: "ops")
        return DelegationReport(delegation: delegation, line: "\(delegation.describe(label)) (ANE \(neuralEngine), GPU \(gpu))")
    }

    /// MLComputePlan.load(contentsOf:configuration:) (iOS 17.4, async throws): `contentsOf` is "the on-disk location
    /// of the compiled model (.mlmodelc directory)", and the configuration is the one the model is loaded with, so
    /// the plan is for the same compute units. `modelStructure` is `.program` for an ML Program (`.neuralNetwork`,
    /// `.pipeline` or `.unsupported` otherwise); the program's "main" function's block lists its operations.
    @available(iOS 17.4, *)
    private static func planned(_ compiled: URL, _ units: MLComputeUnits, _ label: String) async throws -> DelegationReport {
        let configuration = MLModelConfiguration()
        configuration.computeUnits = units
        let plan = try await MLComputePlan.load(contentsOf: compiled, configuration: configuration)
        guard case let .program(program) = plan.modelStructure else {
            return unmeasured(label, "not an ML Program")
        }
        guard let main = program.functions["main"] else {
            return unmeasured(label, "not reported (the ML Program has no main function)")
        }
        var devices: [Device] = []
        collect(main.block, plan, into: &devices)
        return try measured(devices, label)
    }

    /// Every operation of `block` in program order, each followed by its nested blocks (Operation.blocks: the bodies
    /// of loops and conditionals). MLComputePlan.deviceUsage(for:) returns the usage, or nil "if the usage couldn't be
    /// determined" (constants): those are not counted. DeviceUsage.preferred is "the compute device that the framework
    /// prefers to execute the layer/operation".
    @available(iOS 17.4, *)
    private static func collect(_ block: MLModelStructure.Program.Block, _ plan: MLComputePlan, into devices: inout [Device]) {
        for operation in block.operations {
            if let usage = plan.deviceUsage(for: operation) {
                devices.append(Device(usage.preferred))
            }
            for nested in operation.blocks {
                collect(nested, plan, into: &devices)
            }
        }
    }
}

/// Carries the report out of the detached task; written once before the semaphore is signalled, read only after a wait
/// that did not time out.
private final class ReportBox: @unchecked Sendable {
    var report: DelegationReport?
}
