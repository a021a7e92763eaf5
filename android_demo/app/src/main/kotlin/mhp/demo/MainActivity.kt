package mhp.demo

import android.Manifest
import android.content.pm.PackageManager
import android.hardware.display.DisplayManager
import android.os.Bundle
import android.view.Surface
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
import androidx.camera.core.UseCaseGroup
import androidx.camera.core.resolutionselector.AspectRatioStrategy
import androidx.camera.core.resolutionselector.ResolutionSelector
import androidx.camera.lifecycle.ProcessCameraProvider
import androidx.camera.view.PreviewView
import androidx.core.content.ContextCompat
import androidx.core.view.ViewCompat
import androidx.core.view.WindowCompat
import androidx.core.view.WindowInsetsCompat
import androidx.core.view.doOnLayout
import androidx.core.view.updatePadding
import mhp.posecore.FramePipeline
import mhp.posecore.Intrinsics
import mhp.posecore.ModelManifest
import mhp.posecore.Skeleton
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors

/**
 * Camera preview, the pose overlay and 3D view, the model/accelerator/threads pickers, the front/back camera switch and
 * the benchmark button, in any orientation. The bundled person detector (pose_detection.tflite, CPU) picks who the pose
 * model looks at; without it the app follows one person from a centred box. Nothing here ends in a crash: a model,
 * delegate, camera or frame problem is a one-line message, and a delegate failing at inference falls back to CPU.
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
    private lateinit var cameraButton: Button

    /** The analysis thread owns the runner and the pipeline: reloads and frames never overlap. */
    private val analysis: ExecutorService = Executors.newSingleThreadExecutor()
    private val copier = FrameCopier()
    private var runner: LiteRtRunner? = null
    private var detector: LiteRtDetector? = null
    private var pipeline: FramePipeline? = null
    private var manifest: ModelManifest? = null
    private val intrinsicsFor: (Int, Int) -> Intrinsics = { width, height -> frameIntrinsics ?: Intrinsics.fromFov(width, height) }
    private var skeleton: Skeleton? = null
    private var modelLabel = ""

    /** The (model, accelerator, threads) last asked for: the spinners' first onItemSelected calls ask for it again. */
    private var requested: Triple<String, Accelerator, Int>? = null
    private var provider: ProcessCameraProvider? = null
    private var frames: ImageAnalysis? = null
    private var front = false

    @Volatile
    private var benchmarking = false

    /** The bound camera's lens (Camera2 intrinsics or the fallback) and the current frame's intrinsics from it. */
    @Volatile
    private var lens: CameraLens? = null
    private var frameIntrinsics: Intrinsics? = null

    /** A 180-degree turn changes no configuration: keep the analysis rotation right (CameraX's DisplayListener advice). */
    private val displays = object : DisplayManager.DisplayListener {
        override fun onDisplayAdded(id: Int) = Unit
        override fun onDisplayRemoved(id: Int) = Unit
        override fun onDisplayChanged(id: Int) {
            preview.display?.let { frames?.targetRotation = it.rotation }
        }
    }

    private val cameraPermission = registerForActivityResult(ActivityResultContracts.RequestPermission()) { granted ->
        if (granted) startCamera() else showMessage(getString(R.string.camera_denied))
    }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        WindowCompat.setDecorFitsSystemWindows(window, false) // edge to edge on every API level, as targetSdk 35+ enforces
        setContentView(R.layout.activity_main)
        front = savedInstanceState?.getBoolean(FRONT) ?: false // a turned phone recreates the activity
        preview = findViewById(R.id.preview)
        overlay = findViewById(R.id.overlay)
        skeletonView = findViewById(R.id.skeleton)
        stats = findViewById(R.id.stats)
        message = findViewById(R.id.message)
        modelPicker = findViewById(R.id.model_picker)
        acceleratorPicker = findViewById(R.id.accelerator_picker)
        threadsPicker = findViewById(R.id.threads_picker)
        benchmarkButton = findViewById(R.id.benchmark)
        cameraButton = findViewById(R.id.camera_switch)
        // controls never under the status bar, navigation bar or a cutout; the preview itself stays full-bleed
        ViewCompat.setOnApplyWindowInsetsListener(findViewById(R.id.hud)) { hud, insets ->
            val bars = insets.getInsets(WindowInsetsCompat.Type.systemBars() or WindowInsetsCompat.Type.displayCutout())
            hud.updatePadding(left = bars.left, top = bars.top, right = bars.right, bottom = bars.bottom)
            insets
        }

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
        cameraButton.setOnClickListener {
            front = !front
            bindCamera()
            analysis.execute { restartPipeline() } // the other camera's people: fresh tracks and smoothing
        }
        getSystemService(DisplayManager::class.java).registerDisplayListener(displays, null)
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
            override fun onItemSelected(parent: AdapterView<*>?, view: View?, position: Int, id: Long) = reload(null)
            override fun onNothingSelected(parent: AdapterView<*>?) = Unit
        }
    }

    /**
     * Loads the chosen model on the chosen accelerator (or [on]), and the detector beside it; [notice] is shown once it
     * runs. A problem becomes the on-screen message; a GPU or NNAPI that cannot load the model falls back to CPU.
     */
    private fun reload(notice: String?, on: Accelerator? = null) {
        val name = modelPicker.selectedItem as String? ?: return
        if (isDestroyed || analysis.isShutdown) return // a fallback posted by the old activity's analysis thread
        val accelerator = on ?: Accelerator.entries[acceleratorPicker.selectedItemPosition.coerceAtLeast(0)]
        val threads = THREADS[threadsPicker.selectedItemPosition.coerceAtLeast(0)]
        val wanted = Triple(name, accelerator, threads)
        if (wanted == requested) return // each spinner fires once on first layout: one load, not three
        requested = wanted
        analysis.execute {
            closeModel()
            try {
                val model = ModelAssets.load(assets, name)
                val loaded = LiteRtRunner(model.buffer, model.manifest, accelerator, threads, model.sha256)
                runner = loaded
                val (people, note) = loadDetector(threads)
                detector = people
                pipeline = FramePipeline(model.manifest, loaded, intrinsicsFor, detector = people)
                manifest = model.manifest
                skeleton = model.manifest.skeleton
                val runsOn = loaded.delegation?.describe(accelerator.label) ?: "${accelerator.label} (delegation not in LiteRT's log)"
                modelLabel = "${model.manifest.model} ${model.manifest.precision} · $runsOn" +
                    (if (accelerator == Accelerator.CPU) " · $threads threads" else "") + (if (people == null) " · no detector" else "")
                val shown = listOfNotNull(notice, note).joinToString("\n")
                runOnUiThread { if (shown.isEmpty()) message.visibility = View.GONE else showMessage(shown) }
            } catch (e: ModelProblem) {
                failed(accelerator, e.message ?: name)
            } catch (e: Exception) { // e.g. FramePipeline refusing the manifest's input, an unreadable asset (IOException)
                failed(accelerator, "$name: ${e.message}")
            }
        }
    }

    /** On the analysis thread: a model that failed on GPU/NNAPI (to load or at inference) is reloaded on CPU, with a notice. */
    private fun failed(accelerator: Accelerator, reason: String) {
        closeModel()
        runOnUiThread {
            if (isDestroyed) return@runOnUiThread // turned meanwhile: the new activity loads its own model
            if (accelerator == Accelerator.CPU) {
                requested = null // choosing the same again retries
                showMessage(reason)
            } else {
                reload(getString(R.string.fell_back, reason), Accelerator.CPU)
                acceleratorPicker.setSelection(Accelerator.CPU.ordinal) // its callback asks for the load just started
            }
        }
    }

    /** The person detector on XNNPACK [threads], or none and the one-line reason (the pipeline then runs without it). */
    private fun loadDetector(threads: Int): Pair<LiteRtDetector?, String?> = try {
        LiteRtDetector(ModelAssets.detector(assets), threads) to null
    } catch (e: ModelProblem) {
        null to e.message
    } catch (e: Exception) { // RuntimeException from LiteRT, IOException from the asset
        null to "the person detector ${ModelAssets.DETECTOR} cannot run: ${e.message}. Following one person from a centred box."
    }

    /** On the analysis thread: a new pipeline (tracks, smoothing) for the loaded model, after a camera switch. */
    private fun restartPipeline() {
        val loaded = runner ?: return
        pipeline = FramePipeline(manifest ?: return, loaded, intrinsicsFor, detector = detector)
    }

    private fun closeModel() {
        pipeline = null
        manifest = null
        runner?.close()
        runner = null
        detector?.close()
        detector = null
    }

    private fun startCamera() {
        val future = ProcessCameraProvider.getInstance(this)
        future.addListener({
            provider = try {
                future.get()
            } catch (e: Exception) { // ExecutionException: CameraX could not initialise (no camera service)
                return@addListener showMessage(getString(R.string.no_camera, "CameraX", e.message))
            }
            preview.doOnLayout { bindCamera() } // PreviewView.getViewPort() is null until the view has a size
        }, ContextCompat.getMainExecutor(this))
    }

    /**
     * Binds the preview and the analysis for the chosen camera in one UseCaseGroup sharing the PreviewView's ViewPort
     * (ProcessCameraProvider.bindToLifecycle(owner, selector, UseCaseGroup)): CameraX then gives both the same crop
     * rect on the sensor, so what the analysis sees (FrameCopier copies the crop rect) is what the preview shows.
     */
    private fun bindCamera(retry: Boolean = true) {
        val cameras = provider ?: return
        val selector = if (front) CameraSelector.DEFAULT_FRONT_CAMERA else CameraSelector.DEFAULT_BACK_CAMERA
        val rotation = preview.display?.rotation ?: Surface.ROTATION_0
        val port = preview.viewPort ?: return showMessage(getString(R.string.no_camera, "preview", "the preview has no size"))
        val ratio = ResolutionSelector.Builder().setAspectRatioStrategy(AspectRatioStrategy.RATIO_4_3_FALLBACK_AUTO_STRATEGY).build()
        val shown = Preview.Builder().setResolutionSelector(ratio).setTargetRotation(rotation).build().also { it.setSurfaceProvider(preview.surfaceProvider) }
        val analysed = ImageAnalysis.Builder()
            .setResolutionSelector(ratio)
            .setTargetRotation(rotation) // rotationDegrees then turns each buffer upright for this display rotation
            .setOutputImageFormat(ImageAnalysis.OUTPUT_IMAGE_FORMAT_RGBA_8888)
            .setBackpressureStrategy(ImageAnalysis.STRATEGY_KEEP_ONLY_LATEST)
            .build()
        analysed.setAnalyzer(analysis, ::analyze)
        val group = UseCaseGroup.Builder().setViewPort(port).addUseCase(shown).addUseCase(analysed).build()
        try {
            cameras.unbindAll()
            val camera = cameras.bindToLifecycle(this, selector, group)
            frames = analysed
            lens = CameraLens(camera.cameraInfo)
        } catch (e: RuntimeException) { // bindToLifecycle: IllegalArgumentException when no camera matches the selector
            val wanted = getString(if (front) R.string.camera_front else R.string.camera_back).lowercase()
            front = !front // back to the other camera, tried once
            if (retry) bindCamera(retry = false)
            return showMessage(getString(R.string.no_camera, wanted, e.message))
        }
        overlay.mirrored = front // PreviewView mirrors the front camera (Preview's default MIRROR_MODE_ON_FRONT_ONLY)
        skeletonView.mirrored = front
        cameraButton.text = getString(if (front) R.string.camera_back else R.string.camera_front)
    }

    private fun analyze(image: ImageProxy) {
        image.use {
            val current = pipeline
            if (current == null || benchmarking) return
            val rotation = it.imageInfo.rotationDegrees
            val result = try {
                val frame = copier.copy(it)
                frameIntrinsics = lens?.intrinsics(it.width, it.height, it.cropRect, rotation)
                current.process(frame, rotation, it.imageInfo.timestamp)
            } catch (e: InferenceFailed) { // a delegate failing at invoke: fall back to CPU, never crash the analysis thread
                return failed(e.accelerator, e.message ?: "inference failed")
            } catch (e: RuntimeException) { // a degenerate crop or frame: skip it, say why
                return runOnUiThread { showMessage(getString(R.string.frame_failed, e.message)) }
            }
            val bones = skeleton
            val label = modelLabel + (lens?.let { " · ${it.source}" } ?: "")
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
            } catch (e: RuntimeException) { // the benchmark skips what fails; anything else is a message, not a crash
                "benchmark failed: ${e.message}"
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

    override fun onSaveInstanceState(outState: Bundle) {
        super.onSaveInstanceState(outState)
        outState.putBoolean(FRONT, front)
    }

    override fun onDestroy() {
        super.onDestroy()
        getSystemService(DisplayManager::class.java).unregisterDisplayListener(displays)
        analysis.execute { closeModel() }
        analysis.shutdown()
    }

    private companion object {
        val THREADS = listOf(1, 2, 4)
        const val DEFAULT_THREADS = 4
        const val FRONT = "front"
    }
}
