package mhp.demo

import mhp.posecore.Decoded
import mhp.posecore.Delegation
import mhp.posecore.HeatmapDecoder
import mhp.posecore.ModelManifest
import mhp.posecore.ModelRunner
import mhp.posecore.TensorSpec
import org.tensorflow.lite.Delegate
import org.tensorflow.lite.Interpreter
import org.tensorflow.lite.Tensor
import org.tensorflow.lite.gpu.CompatibilityList
import org.tensorflow.lite.gpu.GpuDelegate
import org.tensorflow.lite.nnapi.NnApiDelegate
import java.nio.ByteBuffer
import java.nio.ByteOrder

/**
 * Where the interpreter runs; [benchName] is the row's `delegate` in the benchmark file, [kernel] the delegate's name in
 * LiteRT's "Replacing N out of M node(s) with delegate (kernel) node" log line (its Java API reports no delegated nodes).
 */
enum class Accelerator(val label: String, val benchName: String, val kernel: String) {
    CPU("CPU (XNNPACK)", "xnnpack", "TfLiteXNNPackDelegate"),
    GPU("GPU", "gpu", "TfLiteGpuDelegateV2"),
    NNAPI("NNAPI", "nnapi", "TfLiteNnapiDelegate"),
}

/**
 * A model that loaded but failed to run on [accelerator]: Interpreter.run/runSignature throw IllegalArgumentException
 * ("if an error occurs when running inference") or IllegalStateException (a closed or unusable interpreter), e.g. a GPU
 * or NNAPI delegate failing at invoke. The app then falls back to CPU; the benchmark writes a skipped row.
 */
class InferenceFailed(val accelerator: Accelerator, message: String) : RuntimeException(message)

/**
 * posecore's [ModelRunner] over the LiteRT interpreter: the model's one signature is checked against the manifest,
 * [run] copies the packed input in, invokes and copies the outputs out, [decode] reads them as voxels.
 */
class LiteRtRunner(
    model: ByteBuffer,
    private val manifest: ModelManifest,
    val accelerator: Accelerator,
    threads: Int,
    private val artifactSha256: String?,
) : ModelRunner {
    private val delegate: Delegate?
    private val interpreter: Interpreter
    private val signature: String
    private val input: ByteBuffer
    private val outputs: Map<String, ByteBuffer>
    private val heatmapScale: Double
    private val decoder: HeatmapDecoder?
    val initMs: Double

    /** How much of the graph the delegate took, read from LiteRT's log after [initMs]; null when the log has no line for it. */
    val delegation: Delegation?

    init {
        val start = System.nanoTime()
        delegate = try {
            when (accelerator) {
                Accelerator.CPU -> null
                Accelerator.GPU -> gpuDelegate()
                Accelerator.NNAPI -> NnApiDelegate()
            }
        } catch (e: ModelProblem) {
            throw e
        } catch (e: Throwable) {
            throw ModelProblem("${accelerator.label} delegate unavailable on this phone: ${e.message}")
        }
        val options = Interpreter.Options().setNumThreads(threads).setUseXNNPACK(accelerator == Accelerator.CPU)
        delegate?.let { options.addDelegate(it) }
        val logSince = System.currentTimeMillis()
        interpreter = try {
            Interpreter(model, options)
        } catch (e: Exception) {
            delegate?.close()
            throw ModelProblem("${accelerator.label} cannot run ${manifest.model} ${manifest.precision}: ${e.message}")
        }
        signature = try {
            checkedSignature()
        } catch (e: Exception) { // free the interpreter and delegate whatever the check threw
            close()
            throw e as? ModelProblem ?: ModelProblem("${manifest.model} ${manifest.precision}: ${e.message}")
        }
        input = ByteBuffer.allocateDirect(manifest.input.shape.fold(1, Int::times)).order(ByteOrder.nativeOrder())
        outputs = manifest.outputs.associate {
            it.name to ByteBuffer.allocateDirect(interpreter.getOutputTensorFromSignature(it.name, signature).numBytes()).order(ByteOrder.nativeOrder())
        }
        val heatmaps = manifest.outputs.first()
        decoder = if (manifest.decodesOnDevice) HeatmapDecoder(heatmaps.shape[1], heatmaps.shape[2], manifest.skeleton.names.size, manifest.depthBins) else null
        heatmapScale = interpreter.getOutputTensorFromSignature(heatmaps.name, signature).quantizationParams().scale.toDouble()
        initMs = (System.nanoTime() - start) / 1e6
        delegation = Delegation.fromLiteRtLog(liteRtLogSince(logSince), accelerator.kernel)
    }

    /**
     * The GPU delegate only where LiteRT's CompatibilityList says it is supported, with its best options for this phone
     * (the documented CompatibilityList usage: isDelegateSupportedOnThisDevice, then getBestOptionsForThisDevice).
     */
    private fun gpuDelegate(): GpuDelegate = CompatibilityList().use { list ->
        if (!list.isDelegateSupportedOnThisDevice) throw ModelProblem("GPU not supported on this device (LiteRT CompatibilityList): use CPU (XNNPACK)")
        GpuDelegate(list.bestOptionsForThisDevice)
    }

    /** The model's one signature, its tensors checked against the manifest and its input against the packing the app does. */
    private fun checkedSignature(): String {
        val key = interpreter.signatureKeys.singleOrNull()
            ?: throw ModelProblem("the model has ${interpreter.signatureKeys.size} signatures; mhp-export writes exactly one")
        val inputs = interpreter.getSignatureInputs(key).map { spec(it, interpreter.getInputTensorFromSignature(it, key)) }
        val outs = interpreter.getSignatureOutputs(key).map { spec(it, interpreter.getOutputTensorFromSignature(it, key)) }
        manifest.mismatch(inputs, outs)?.let { throw ModelProblem("the model and its manifest disagree: $it; copy both from the same export") }
        // posecore's run-time checks: the file's sha256, the manifest version, a raw-pixel input (uint8 scale 1 or none,
        // zero point 0, as the interpreter reports it) and normalisation inside the graph
        val quant = interpreter.getInputTensorFromSignature(manifest.input.name, key).quantizationParams()
        try {
            manifest.checkArtifact(artifactSha256, quant.scale.toDouble(), quant.zeroPoint)
        } catch (e: IllegalArgumentException) {
            throw ModelProblem("${manifest.model} ${manifest.precision}: ${e.message}")
        }
        return key
    }

    private fun spec(name: String, tensor: Tensor) = TensorSpec(name, tensor.shape().toList(), tensor.dataType().name.lowercase())

    override fun run(input: ByteArray) {
        this.input.rewind()
        this.input.put(input)
        this.input.rewind()
        outputs.values.forEach { it.rewind() }
        try {
            interpreter.runSignature(mapOf(manifest.input.name to this.input), outputs, signature)
        } catch (e: IllegalArgumentException) {
            throw InferenceFailed(accelerator, "${accelerator.label} failed at inference: ${e.message}")
        } catch (e: IllegalStateException) {
            throw InferenceFailed(accelerator, "${accelerator.label} failed at inference: ${e.message}")
        }
    }

    /** The raw bytes of one output after [run] (the instrumented golden test compares them with Python's). */
    fun outputBytes(name: String): ByteArray {
        val buffer = outputs.getValue(name).duplicate().order(ByteOrder.nativeOrder())
        buffer.rewind()
        return ByteArray(buffer.remaining()).also { buffer.get(it) }
    }

    override fun decode(): Decoded {
        val heatmaps = manifest.outputs.first()
        if (decoder != null) {
            return if (heatmaps.dtype == "int8") decoder.softArgmax(outputBytes(heatmaps.name), heatmapScale) else decoder.softArgmax(floats(heatmaps))
        }
        val coords = manifest.outputs.first { it.shape.size == 3 } // (1, J, 3) voxels
        val confidence = manifest.outputs.first { it.shape.size == 2 } // (1, J)
        return Decoded.fromFlat(floats(coords), floats(confidence))
    }

    private fun floats(spec: TensorSpec): FloatArray {
        val buffer = outputs.getValue(spec.name).duplicate().order(ByteOrder.nativeOrder())
        buffer.rewind()
        return FloatArray(buffer.remaining() / 4).also { buffer.asFloatBuffer().get(it) }
    }

    override fun close() {
        interpreter.close()
        delegate?.close()
    }
}
