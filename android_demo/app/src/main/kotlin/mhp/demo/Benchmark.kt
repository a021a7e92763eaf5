package mhp.demo

import android.content.Context
import android.os.Build
import mhp.posecore.BenchLoop
import mhp.posecore.BenchReport
import org.json.JSONObject
import org.tensorflow.lite.TensorFlowLite
import java.io.File
import java.time.Instant
import java.time.temporal.ChronoUnit
import kotlin.random.Random

/**
 * Benchmark mode: every bundled model on every accelerator setting, timed with posecore's BenchLoop (input copy,
 * invoke, output copy per call) and written as the `mhp-bench-app` file that `mhp-bench --ingest` reads. A setting
 * that cannot load or fails while running is a row with status "skipped" and the reason, and the run goes on. A row's
 * `partitions` is its delegate's, from LiteRT's log (LiteRtRunner.delegation; null when the log has no line for it).
 */
class Benchmark(private val context: Context, private val warmup: Int = 10, private val runs: Int = 100) {
    private class Setting(val accelerator: Accelerator, val threads: Int)

    private val settings = listOf(
        Setting(Accelerator.CPU, 1),
        Setting(Accelerator.CPU, 4),
        Setting(Accelerator.GPU, 1),
        Setting(Accelerator.NNAPI, 1),
    )

    /** Runs everything (minutes: call it off the main thread) and returns the file written. */
    fun measure(progress: (String) -> Unit): File {
        val names = ModelAssets.names(context.assets)
        if (names.isEmpty()) throw ModelProblem(context.getString(R.string.no_model))
        val report = BenchReport("android", device(), app())
        for (name in names) {
            val model = try {
                ModelAssets.load(context.assets, name)
            } catch (e: ModelProblem) { // no manifest to fill a row from: said, and the other models still run
                progress("$name skipped: ${e.message}")
                continue
            }
            val input = Random(0).nextBytes(model.manifest.input.shape.fold(1, Int::times))
            for (setting in settings) {
                val threads = if (setting.accelerator == Accelerator.CPU) setting.threads else null
                val label = "$name · ${setting.accelerator.label}${threads?.let { " · $it threads" } ?: ""}"
                progress(label)
                val reason = try {
                    LiteRtRunner(model.buffer, model.manifest, setting.accelerator, setting.threads, model.sha256).use { runner ->
                        val times = BenchLoop.time(warmup, runs) { runner.run(input) }
                        val partitions = runner.delegation?.partitions
                        report.timed(model.manifest, name, model.sizeBytes, setting.accelerator.benchName, threads, warmup, times, runner.initMs, partitions)
                    }
                    null
                } catch (e: ModelProblem) { // a delegate this phone lacks (CompatibilityList), or that cannot load the model
                    e.message ?: "failed to load"
                } catch (e: RuntimeException) { // InferenceFailed: a delegate failing at invoke, mid-run
                    e.message ?: "failed at inference"
                }
                if (reason != null) {
                    report.skipped(model.manifest, name, model.sizeBytes, setting.accelerator.benchName, threads, reason)
                    progress("$label skipped: $reason")
                }
            }
        }
        return write(report)
    }

    /** Written to a temporary file and renamed, so an interrupted run never leaves half a file. */
    private fun write(report: BenchReport): File {
        val created = Instant.now().truncatedTo(ChronoUnit.SECONDS)
        val folder = context.getExternalFilesDir(null) ?: context.filesDir
        val target = File(folder, "mhp-bench-android-${created.epochSecond}.json")
        val partial = File(folder, target.name + ".partial")
        partial.writeText(report.toJson(created.toString()))
        if (!partial.renameTo(target)) throw ModelProblem("could not write ${target.path}; is the storage full?")
        return target
    }

    private fun device(): JSONObject = JSONObject()
        .put("model", Build.DEVICE)
        .put("name", "${Build.MANUFACTURER} ${Build.MODEL}")
        .put("chip", if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.S) Build.SOC_MODEL else Build.HARDWARE)
        .put("os", "Android ${Build.VERSION.RELEASE} (API ${Build.VERSION.SDK_INT})")

    private fun app(): JSONObject = JSONObject()
        .put("name", "mhp-android-demo")
        .put("version", BuildConfig.VERSION_NAME)
        .put("litert", TensorFlowLite.runtimeVersion())
}
