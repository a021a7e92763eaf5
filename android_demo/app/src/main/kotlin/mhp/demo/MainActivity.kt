package mhp.demo

import android.Manifest
import android.content.pm.PackageManager
import android.os.Bundle
import android.view.View
import android.widget.AdapterView
import android.widget.ArrayAdapter
import android.widget.Button
import android.widget.Spinner
import android.widget.TextView
import androidx.activity.result.contract.ActivityResultContracts
import androidx.appcompat.app.AppCompatActivity
import androidx.camera.core.CameraSelector
import androidx.camera.core.ImageAnalysis
import androidx.camera.core.ImageProxy
import androidx.camera.core.Preview
import androidx.camera.core.resolutionselector.AspectRatioStrategy
import androidx.camera.core.resolutionselector.ResolutionSelector
import androidx.camera.lifecycle.ProcessCameraProvider
import androidx.camera.view.PreviewView
import androidx.core.content.ContextCompat
import mhp.posecore.FramePipeline
import mhp.posecore.Intrinsics
import mhp.posecore.Skeleton
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors

/**
 * Camera preview, the pose overlay and 3D view, the model/accelerator/threads pickers and the benchmark button. The
 * bundled person detector (pose_detection.tflite, CPU) picks who the pose model looks at; without it the app follows
 * one person from a centred box.
 */
class MainActivity : AppCompatActivity() {
    private lateinit var preview: PreviewView
    private lateinit var overlay: OverlayView
    private lateinit var skeletonView: SkeletonView
    private lateinit var stats: TextView
    private lateinit var message: TextView
    private lateinit var modelPicker: Spinner
    private lateinit var acceleratorPicker: Spinner
    private lateinit var threadsPicker: Spinner
    private lateinit var benchmarkButton: Button

    /** The analysis thread owns the runner and the pipeline: reloads and frames never overlap. */
    private val analysis: ExecutorService = Executors.newSingleThreadExecutor()
    private val copier = FrameCopier()
    private var runner: LiteRtRunner? = null
    private var detector: LiteRtDetector? = null
    private var pipeline: FramePipeline? = null
    private var skeleton: Skeleton? = null
    private var modelLabel = ""

    @Volatile
    private var benchmarking = false

    @Volatile
    private var intrinsics: (Int, Int) -> Intrinsics = { width, height -> Intrinsics.fromFov(width, height) }

    private val cameraPermission = registerForActivityResult(ActivityResultContracts.RequestPermission()) { granted ->
        if (granted) startCamera() else showMessage(getString(R.string.camera_denied))
    }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContentView(R.layout.activity_main)
        preview = findViewById(R.id.preview)
        overlay = findViewById(R.id.overlay)
        skeletonView = findViewById(R.id.skeleton)
        stats = findViewById(R.id.stats)
        message = findViewById(R.id.message)
        modelPicker = findViewById(R.id.model_picker)
        acceleratorPicker = findViewById(R.id.accelerator_picker)
        threadsPicker = findViewById(R.id.threads_picker)
        benchmarkButton = findViewById(R.id.benchmark)

        val models = ModelAssets.names(assets)
        if (models.isEmpty()) {
            showMessage(getString(R.string.no_model))
            benchmarkButton.isEnabled = false
        }
        fill(modelPicker, models)
        fill(acceleratorPicker, Accelerator.entries.map { it.label })
        fill(threadsPicker, THREADS.map { it.toString() })
        threadsPicker.setSelection(THREADS.indexOf(DEFAULT_THREADS))
        benchmarkButton.setOnClickListener { runBenchmark() }
        message.setOnClickListener { message.visibility = View.GONE } // a tap dismisses a note (e.g. no detector)

        if (ContextCompat.checkSelfPermission(this, Manifest.permission.CAMERA) == PackageManager.PERMISSION_GRANTED) {
            startCamera()
        } else {
            cameraPermission.launch(Manifest.permission.CAMERA)
        }
    }

    private fun fill(spinner: Spinner, items: List<String>) {
        spinner.adapter = ArrayAdapter(this, android.R.layout.simple_spinner_dropdown_item, items)
        spinner.onItemSelectedListener = object : AdapterView.OnItemSelectedListener {
            override fun onItemSelected(parent: AdapterView<*>?, view: View?, position: Int, id: Long) = reload()
            override fun onNothingSelected(parent: AdapterView<*>?) = Unit
        }
    }

    /** Loads the chosen model on the chosen accelerator, and the detector beside it; a problem becomes the on-screen message. */
    private fun reload() {
        val name = modelPicker.selectedItem as String? ?: return
        val accelerator = Accelerator.entries[acceleratorPicker.selectedItemPosition.coerceAtLeast(0)]
        val threads = THREADS[threadsPicker.selectedItemPosition.coerceAtLeast(0)]
        analysis.execute {
            closeModel()
            try {
                val model = ModelAssets.load(assets, name)
                val loaded = LiteRtRunner(model.buffer, model.manifest, accelerator, threads)
                runner = loaded
                val (people, note) = loadDetector(threads)
                detector = people
                pipeline = FramePipeline(model.manifest, loaded, { width, height -> intrinsics(width, height) }, detector = people)
                skeleton = model.manifest.skeleton
                modelLabel = "${model.manifest.model} ${model.manifest.precision} · ${accelerator.label}" +
                    (if (accelerator == Accelerator.CPU) " · $threads threads" else "") + (if (people == null) " · no detector" else "")
                runOnUiThread { if (note == null) message.visibility = View.GONE else showMessage(note) }
            } catch (e: ModelProblem) {
                runOnUiThread { showMessage(e.message ?: name) }
            } catch (e: IllegalArgumentException) {
                runOnUiThread { showMessage("$name: ${e.message}") }
            }
        }
    }

    /** The person detector on XNNPACK [threads], or none and the one-line reason (the pipeline then runs without it). */
    private fun loadDetector(threads: Int): Pair<LiteRtDetector?, String?> = try {
        LiteRtDetector(ModelAssets.detector(assets), threads) to null
    } catch (e: ModelProblem) {
        null to e.message
    } catch (e: RuntimeException) {
        null to "the person detector ${ModelAssets.DETECTOR} cannot run: ${e.message}. Following one person from a centred box."
    }

    private fun closeModel() {
        pipeline = null
        runner?.close()
        runner = null
        detector?.close()
        detector = null
    }

    private fun startCamera() {
        val future = ProcessCameraProvider.getInstance(this)
        future.addListener({
            val provider = future.get()
            // the preview and the analysis see the same 4:3 field of view, so the overlay lines up
            val ratio = ResolutionSelector.Builder().setAspectRatioStrategy(AspectRatioStrategy.RATIO_4_3_FALLBACK_AUTO_STRATEGY).build()
            val shown = Preview.Builder().setResolutionSelector(ratio).build().also { it.setSurfaceProvider(preview.surfaceProvider) }
            val frames = ImageAnalysis.Builder()
                .setResolutionSelector(ratio)
                .setOutputImageFormat(ImageAnalysis.OUTPUT_IMAGE_FORMAT_RGBA_8888)
                .setBackpressureStrategy(ImageAnalysis.STRATEGY_KEEP_ONLY_LATEST)
                .build()
            frames.setAnalyzer(analysis, ::analyze)
            provider.unbindAll()
            val camera = provider.bindToLifecycle(this, CameraSelector.DEFAULT_BACK_CAMERA, shown, frames)
            intrinsics = cameraIntrinsics(camera.cameraInfo)
        }, ContextCompat.getMainExecutor(this))
    }

    private fun analyze(image: ImageProxy) {
        image.use {
            val current = pipeline
            if (current == null || benchmarking) return
            val result = current.process(copier.copy(it), it.imageInfo.rotationDegrees, it.imageInfo.timestamp)
            val bones = skeleton
            val label = modelLabel
            val pose = result.pose
            runOnUiThread {
                overlay.show(result, bones)
                skeletonView.show(pose?.jointsRelMm, bones)
                val person = if (result.person && pose != null) getString(R.string.root, pose.rootDepthMm / 1000) else getString(R.string.no_person)
                stats.text = getString(
                    R.string.stats, label, result.fps, result.times.detectMs, result.times.packMs, result.times.inferenceMs,
                    result.times.decodeMs, person,
                )
            }
        }
    }

    private fun runBenchmark() {
        benchmarking = true
        benchmarkButton.isEnabled = false
        Thread {
            val text = try {
                val file = Benchmark(this).measure { step -> runOnUiThread { showMessage(getString(R.string.benchmark_running, step)) } }
                getString(R.string.benchmark_done, file.path)
            } catch (e: ModelProblem) {
                e.message ?: "benchmark failed"
            }
            runOnUiThread {
                showMessage(text)
                benchmarking = false
                benchmarkButton.isEnabled = true
            }
        }.start()
    }

    private fun showMessage(text: String) {
        message.text = text
        message.visibility = View.VISIBLE
    }

    override fun onDestroy() {
        super.onDestroy()
        analysis.execute { closeModel() }
        analysis.shutdown()
    }

    private companion object {
        val THREADS = listOf(1, 2, 4)
        const val DEFAULT_THREADS = 4
    }
}
