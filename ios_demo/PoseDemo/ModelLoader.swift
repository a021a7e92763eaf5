import Foundation
import PoseCore

/// Opens bundled artifacts on a runtime, checking the model's real tensors against its manifest.
enum ModelLoader {
    /// The runner for an artifact; a model whose tensors differ from the manifest throws ModelManifest.mismatch's message.
    static func runner(for model: BundledModel, choice: RuntimeChoice) throws -> DeviceModel {
        let runner: DeviceModel
        if case let .coreML(units) = choice {
            runner = try CoreMLRunner(compiledModel: ModelAssets.compiled(model), manifest: model.manifest, computeUnits: units)
        } else {
            runner = try TFLiteRunner(artifact: model.artifact, manifest: model.manifest, choice: choice)
        }
        if let problem = model.manifest.mismatch(modelInputs: runner.inputs, modelOutputs: runner.outputs) {
            throw AppError("\(model.id) does not match its manifest: \(problem). Re-export it with mhp-export.")
        }
        return runner
    }

    /// The frame pipeline, with intrinsics from the camera's field of view (which spans the frame's long side) and the
    /// person detector when there is one (without it the pipeline follows one person from a centred box).
    static func pipeline(
        for model: BundledModel, choice: RuntimeChoice, longSideFovDegrees: Double, detector: DetectorRunner?
    ) throws -> FramePipeline {
        try FramePipeline(manifest: model.manifest, model: runner(for: model, choice: choice), intrinsicsFor: { width, height in
            let focal = Double(max(width, height)) / 2 / tan(longSideFovDegrees * Double.pi / 180 / 2)
            return Intrinsics(
                focal: [focal, focal],
                principal: [Double(width) / 2, Double(height) / 2],
                source: "camera: \(longSideFovDegrees) degrees along the long side"
            )
        }, detector: detector)
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
