package mhp.posecore

import org.json.JSONArray
import org.json.JSONObject

/** Latency summary of timed runs, percentiles interpolated linearly between ranks (numpy's default). */
class LatencyStats(latenciesMs: DoubleArray) {
    private val sorted = latenciesMs.sortedArray()

    init {
        require(sorted.isNotEmpty() && sorted.all { it.isFinite() && it >= 0 }) { "latencies must be finite, non-negative and not empty" }
    }

    val mean: Double get() = sorted.average()
    val min: Double get() = sorted.first()

    fun percentile(q: Double): Double {
        val rank = q / 100 * (sorted.size - 1)
        val low = rank.toInt()
        val high = minOf(low + 1, sorted.size - 1)
        return sorted[low] + (sorted[high] - sorted[low]) * (rank - low)
    }
}

/**
 * The benchmark file `mhp-bench --ingest` reads (format mhp-bench-app v1, benchmarks/README.md): one row per
 * (artifact, delegate, threads), latency per inference = input copy + invoke + output read.
 */
class BenchReport(private val platform: String, private val device: JSONObject, private val app: JSONObject) {
    private val rows = JSONArray()

    val size: Int get() = rows.length()

    /** [partitions]: the delegate's partitions ([Delegation.partitions]), null when not reported. */
    fun timed(
        model: ModelManifest, artifact: String, sizeBytes: Long, delegate: String, threads: Int?, warmup: Int, latenciesMs: DoubleArray,
        initMs: Double, partitions: Int? = null,
    ) {
        val stats = LatencyStats(latenciesMs)
        rows.put(
            base(model, artifact, sizeBytes, delegate, threads, "latency only")
                .put("warmup", warmup)
                .put("runs", latenciesMs.size)
                .put("latency_p50_ms", stats.percentile(50.0))
                .put("latency_p90_ms", stats.percentile(90.0))
                .put("latency_p99_ms", stats.percentile(99.0))
                .put("latency_mean_ms", stats.mean)
                .put("latency_min_ms", stats.min)
                .put("throughput_fps", if (stats.mean > 0) 1000.0 / stats.mean else JSONObject.NULL)
                .put("init_ms", initMs)
                .put("partitions", partitions ?: JSONObject.NULL),
        )
    }

    /** A configuration that could not run here (a delegate the phone lacks): the row says why. */
    fun skipped(model: ModelManifest, artifact: String, sizeBytes: Long, delegate: String, threads: Int?, reason: String) {
        rows.put(base(model, artifact, sizeBytes, delegate, threads, "skipped").put("reason", reason))
    }

    private fun base(model: ModelManifest, artifact: String, sizeBytes: Long, delegate: String, threads: Int?, status: String) =
        JSONObject()
            .put("model", model.model)
            .put("format", model.format)
            .put("precision", model.precision)
            .put("runtime", "litert")
            .put("delegate", delegate)
            .put("threads", threads ?: JSONObject.NULL)
            .put("status", status)
            .put("artifact", artifact)
            .put("input_size", model.inputSize)
            .put("size_bytes", sizeBytes)

    /** The whole file; [created] is an ISO-8601 UTC time. */
    fun toJson(created: String): String = JSONObject()
        .put("format_name", "mhp-bench-app")
        .put("version", 1)
        .put("platform", platform)
        .put("created", created)
        .put("device", device)
        .put("app", app)
        .put("rows", rows)
        .toString(1)
}
