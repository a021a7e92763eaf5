import Foundation

/// Latency summary of timed runs, percentiles interpolated linearly between ranks (numpy's default).
public struct LatencyStats {
    private let sorted: [Double]

    public init(_ latenciesMs: [Double]) throws {
        sorted = latenciesMs.sorted()
        try require(
            !sorted.isEmpty && sorted.allSatisfy { $0.isFinite && $0 >= 0 },
            "latencies must be finite, non-negative and not empty"
        )
    }

    public var mean: Double { sorted.reduce(0, +) / Double(sorted.count) }

    public var min: Double { sorted[0] }

    public func percentile(_ q: Double) -> Double {
        let rank = q / 100 * Double(sorted.count - 1)
        let low = Int(rank)
        let high = Swift.min(low + 1, sorted.count - 1)
        return sorted[low] + (sorted[high] - sorted[low]) * (rank - Double(low))
    }
}

/// The benchmark file `mhp-bench --ingest` reads (format mhp-bench-app v1, benchmarks/README.md): one row per
/// (artifact, delegate, threads), latency per inference = input copy + invoke + output read.
public final class BenchReport {
    private let platform: String
    private let device: [String: Any]
    private let app: [String: Any]
    private var rows: [[String: Any]] = []

    public init(platform: String, device: [String: Any], app: [String: Any]) {
        self.platform = platform
        self.device = device
        self.app = app
    }

    public var size: Int { rows.count }

    /// `partitions`: the delegate's partitions (`Delegation.partitions`), nil when not reported.
    public func timed(
        model: ModelManifest, artifact: String, sizeBytes: Int64, delegate: String, threads: Int?, warmup: Int,
        latenciesMs: [Double], initMs: Double, partitions: Int? = nil
    ) throws {
        let stats = try LatencyStats(latenciesMs)
        var row = base(model, artifact, sizeBytes, delegate, threads, "latency only")
        row["warmup"] = warmup
        row["runs"] = latenciesMs.count
        row["latency_p50_ms"] = stats.percentile(50.0)
        row["latency_p90_ms"] = stats.percentile(90.0)
        row["latency_p99_ms"] = stats.percentile(99.0)
        row["latency_mean_ms"] = stats.mean
        row["latency_min_ms"] = stats.min
        row["throughput_fps"] = orNull(stats.mean > 0 ? 1000.0 / stats.mean : nil)
        row["init_ms"] = initMs
        row["partitions"] = orNull(partitions)
        rows.append(row)
    }

    /// A configuration that could not run here (a delegate the phone lacks): the row says why.
    public func skipped(model: ModelManifest, artifact: String, sizeBytes: Int64, delegate: String, threads: Int?, reason: String) {
        var row = base(model, artifact, sizeBytes, delegate, threads, "skipped")
        row["reason"] = reason
        rows.append(row)
    }

    /// CoreML artifacts run on the CoreML runtime, .tflite ones on LiteRT.
    private func base(
        _ model: ModelManifest, _ artifact: String, _ sizeBytes: Int64, _ delegate: String, _ threads: Int?, _ status: String
    ) -> [String: Any] {
        [
            "model": model.model,
            "format": model.format,
            "precision": model.precision,
            "runtime": model.format == "coreml" ? "coreml" : "litert",
            "delegate": delegate,
            "threads": orNull(threads),
            "status": status,
            "artifact": artifact,
            "input_size": model.inputSize,
            "size_bytes": sizeBytes,
        ]
    }

    /// The whole file; `created` is an ISO-8601 UTC time.
    public func toJson(created: String) throws -> String {
        let file: [String: Any] = [
            "format_name": "mhp-bench-app",
            "version": 1,
            "platform": platform,
            "created": created,
            "device": device,
            "app": app,
            "rows": rows,
        ]
        let data = try JSONSerialization.data(withJSONObject: file, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}

/// `value`, or JSON null (NSNull) when there is none.
private func orNull(_ value: Any?) -> Any {
    value ?? NSNull()
}
