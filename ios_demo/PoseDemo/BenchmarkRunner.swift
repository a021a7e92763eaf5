import Foundation
import PoseCore

/// Benchmark mode: every bundled artifact on every runtime the UI offers for it, timed with PoseCore's BenchLoop and
/// written as an mhp-bench-app file (BenchReport) to the app's Documents, where Finder and the Files app see it.
struct BenchmarkRunner {
    static let warmup = 10
    static let runs = 100

    let device: [String: Any]
    let app: [String: Any]

    /// The written file. A runtime that fails to load or run becomes a skipped row with its message.
    func run(_ models: [BundledModel], progress: (String) -> Void) throws -> URL {
        guard !models.isEmpty else {
            throw AppError("No model bundled: run ios_demo/copy_models.sh EXPORT_DIR and rebuild the app.")
        }
        let report = BenchReport(platform: "ios", device: device, app: app)
        for model in models {
            let size = model.manifest.inputSize
            let crop = [UInt8](repeating: UInt8.max / 2, count: size * size * 3)  // latency only: a grey crop will do
            for choice in RuntimeChoice.choices(forFormat: model.manifest.format) {
                progress("\(model.id): \(choice.label)")
                do {
                    let sha = try ModelAssets.sha256(of: model.artifact)  // hashed outside init_ms (load time only)
                    var compiled: URL?
                    if case .coreML = choice {
                        // compiled once, outside init_ms (ModelLoader.runner finds it cached under the same sha256)
                        compiled = try ModelAssets.compiled(model, sha: sha)
                    }
                    let start = DispatchTime.now().uptimeNanoseconds
                    let runner = try ModelLoader.runner(for: model, choice: choice, sha: sha)
                    let initMs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                    let latencies = try BenchLoop.time(warmup: BenchmarkRunner.warmup, runs: BenchmarkRunner.runs) {
                        try runner.run(crop)  // input copy, inference, output copy: as the Android app times it
                    }
                    // after both timers: Core ML's compute plan for the same compiled model and compute units (LiteRT's
                    // delegates do not report theirs: no partitions); a plan that cannot be read leaves it empty
                    let placement = DelegationReport.measureWaiting(RunningModel(choice: choice, compiledModel: compiled))
                    progress("\(model.id): \(placement.line)")
                    try report.timed(
                        model: model.manifest, artifact: model.id, sizeBytes: model.sizeBytes, delegate: choice.benchDelegate,
                        threads: choice.benchThreads, warmup: BenchmarkRunner.warmup, latenciesMs: latencies, initMs: initMs,
                        partitions: placement.delegation?.partitions
                    )
                } catch {
                    // never a fallback here: the row is the configuration asked for, so a delegate that fails at load or
                    // inside invoke()/prediction is a "skipped" row with the reason (BenchReport.skipped), on one line
                    let reason = BenchmarkRunner.oneLine(error.localizedDescription)
                    progress("\(model.id): \(choice.label): skipped: \(reason)")
                    report.skipped(
                        model: model.manifest, artifact: model.id, sizeBytes: model.sizeBytes, delegate: choice.benchDelegate,
                        threads: choice.benchThreads, reason: reason
                    )
                }
            }
        }
        let created = ISO8601DateFormatter().string(from: Date())
        let documents = try FileManager.default.url(for: .documentDirectory, in: .userDomainMask, appropriateFor: nil, create: true)
        let file = documents.appendingPathComponent("mhp-bench-ios-\(created.replacingOccurrences(of: ":", with: "-")).json")
        try Data(report.toJson(created: created).utf8).write(to: file, options: .atomic)  // a temporary file, then renamed
        return file
    }

    /// An error message as one line of a benchmark row.
    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: { $0.isNewline }).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    }
}
