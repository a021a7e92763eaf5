import Foundation
import PoseCore

/// Opens bundled artifacts on a runtime, checking the artifact against its manifest (version, input, sha256) and the
/// model's real tensors against the manifest's.
enum ModelLoader {
    /// The runner for an artifact on exactly `choice` (the benchmark: a failure is a skipped row, never a fallback).
    /// A model whose tensors differ from the manifest throws ModelManifest.mismatch's message.
    /// `sha`: the artifact's SHA-256 when the caller has it (the benchmark hashes outside its init_ms timer).
    static func runner(for model: BundledModel, choice: RuntimeChoice, sha known: String? = nil) throws -> DeviceModel {
        // the artifact's bytes against the manifest (version, sha256, normalisation) before anything is loaded
        let sha = try known ?? ModelAssets.sha256(of: model.artifact)
        try ModelAssets.check(model, sha: sha)
        let runner: DeviceModel
        if case let .coreML(units) = choice {
            let compiled = try ModelAssets.compiled(model, sha: sha)
            runner = try CoreMLRunner(compiledModel: compiled, manifest: model.manifest, computeUnits: units)
        } else {
            let tflite = try TFLiteRunner(artifact: model.artifact, manifest: model.manifest, choice: choice)
            let (scale, zeroPoint) = tflite.inputQuantisation
            try ModelAssets.check(model, sha: sha, inputScale: scale, inputZeroPoint: zeroPoint)
            runner = tflite
        }
        if let problem = model.manifest.mismatch(modelInputs: runner.inputs, modelOutputs: runner.outputs) {
            throw AppError("\(model.id) does not match its manifest: \(problem). Re-export it with mhp-export.")
        }
        return runner
    }

    /// The live runner: `choice`, or, when its accelerator fails to load, the same artifact on the CPU with a notice;
    /// later failures at run time fall back the same way (FallbackModel). A problem with the artifact itself (manifest,
    /// sha256, tensors) fails on the CPU too, and then throws.
    static func liveRunner(for model: BundledModel, choice: RuntimeChoice) throws -> FallbackModel {
        guard let cpu = choice.cpuFallback else {
            return FallbackModel(try runner(for: model, choice: choice), choice: choice, cpu: nil)
        }
        let loadCpu = { try runner(for: model, choice: cpu) }
        do {
            return FallbackModel(try runner(for: model, choice: choice), choice: choice, cpu: (choice: cpu, load: loadCpu))
        } catch {
            let notice = "\(choice.label) failed to load (\(error.localizedDescription)): running on \(cpu.label) instead."
            return FallbackModel(try loadCpu(), choice: cpu, cpu: nil, notice: notice)
        }
    }

    /// The frame pipeline, with per-frame intrinsics from `intrinsicsFor` (the camera's matrix, else PoseCore's
    /// fallback) and the person detector when there is one (without it the pipeline follows one person from a centred
    /// box).
    static func pipeline(
        for model: BundledModel, choice: RuntimeChoice, intrinsicsFor: @escaping (Int, Int) -> Intrinsics,
        detector: DetectorRunner?
    ) throws -> (FramePipeline, FallbackModel) {
        let runner = try liveRunner(for: model, choice: choice)
        let pipeline = try FramePipeline(manifest: model.manifest, model: runner, intrinsicsFor: { width, height in
            intrinsicsFor(width, height)
        }, detector: detector)
        return (pipeline, runner)
    }

    /// The bundled person detector on XNNPACK `threads`, or nil and the one-line reason the app shows.
    static func detector(threads: Int, in bundle: Bundle = .main) -> (TFLiteDetector?, String?) {
        guard let file = ModelAssets.detector(in: bundle) else {
            return (nil, "No person detector (\(ModelAssets.detectorFile)) in the app: run make detector, then ios_demo/copy_models.sh EXPORT_DIR and rebuild. Following one person from a centred box.")
        }
        do {
            return (try TFLiteDetector(modelPath: file.path, threads: threads), nil)
        } catch {
            return (nil, "\(error.localizedDescription). Following one person from a centred box.")
        }
    }
}
