package mhp.demo

import mhp.posecore.BlazePose
import mhp.posecore.DetectorOutput
import mhp.posecore.DetectorRunner
import org.tensorflow.lite.DataType
import org.tensorflow.lite.Interpreter
import org.tensorflow.lite.Tensor
import java.nio.ByteBuffer
import java.nio.ByteOrder

/**
 * posecore's [DetectorRunner] over the LiteRT interpreter on XNNPACK CPU threads: MediaPipe's pose_detection.tflite
 * (input 1 x 224 x 224 x 3 float32, outputs 1 x 2254 x 12 boxes and 1 x 2254 x 1 score logits). The model has no
 * signature and its output names are TF's (Identity, Identity_1), so the two outputs are told apart by their last
 * dimension, as mhp.infer.blazepose does.
 */
class LiteRtDetector(model: ByteBuffer, threads: Int) : DetectorRunner, AutoCloseable {
    private val interpreter: Interpreter = try {
        Interpreter(model, Interpreter.Options().setNumThreads(threads).setUseXNNPACK(true))
    } catch (e: Exception) {
        throw ModelProblem("the person detector ${ModelAssets.DETECTOR} cannot run on the CPU: ${e.message}")
    }
    private val input: ByteBuffer
    private val boxesAt: Int
    private val scoresAt: Int
    private val boxes: ByteBuffer
    private val scores: ByteBuffer

    init {
        try {
            val side = BlazePose.INPUT_SIZE
            val tensor = interpreter.getInputTensor(0)
            if (interpreter.inputTensorCount != 1 || !tensor.shape().contentEquals(intArrayOf(1, side, side, 3)) || tensor.dataType() != DataType.FLOAT32) {
                throw ModelProblem("${ModelAssets.DETECTOR} takes ${describe(tensor)}, not 1x${side}x${side}x3 float32: run make detector and copy it again")
            }
            val outs = (0 until interpreter.outputTensorCount).map { interpreter.getOutputTensor(it) }
            boxesAt = outputAt(outs, BlazePose.BOX_VALUES)
            scoresAt = outputAt(outs, 1)
        } catch (e: Exception) { // close the native interpreter whatever the check threw
            interpreter.close()
            throw e as? ModelProblem ?: ModelProblem("${ModelAssets.DETECTOR} cannot run: ${e.message}")
        }
        input = ByteBuffer.allocateDirect(interpreter.getInputTensor(0).numBytes()).order(ByteOrder.nativeOrder())
        boxes = ByteBuffer.allocateDirect(interpreter.getOutputTensor(boxesAt).numBytes()).order(ByteOrder.nativeOrder())
        scores = ByteBuffer.allocateDirect(interpreter.getOutputTensor(scoresAt).numBytes()).order(ByteOrder.nativeOrder())
    }

    /** The float32 output holding one [values]-wide row per anchor. */
    private fun outputAt(outputs: List<Tensor>, values: Int): Int {
        val at = outputs.indexOfFirst {
            it.dataType() == DataType.FLOAT32 && it.shape().lastOrNull() == values && it.numElements() == BlazePose.NUM_ANCHORS * values
        }
        if (at < 0) {
            throw ModelProblem("${ModelAssets.DETECTOR} has no ${BlazePose.NUM_ANCHORS}x$values float32 output (it has ${outputs.joinToString { describe(it) }})")
        }
        return at
    }

    private fun describe(tensor: Tensor) = "${tensor.shape().joinToString("x")} ${tensor.dataType().name.lowercase()}"

    override fun run(input: FloatArray): DetectorOutput {
        this.input.rewind()
        this.input.asFloatBuffer().put(input)
        boxes.rewind()
        scores.rewind()
        interpreter.runForMultipleInputsOutputs(arrayOf<Any>(this.input), mapOf<Int, Any>(boxesAt to boxes, scoresAt to scores))
        return DetectorOutput(floats(boxes), floats(scores))
    }

    private fun floats(buffer: ByteBuffer): FloatArray {
        val view = buffer.duplicate().order(ByteOrder.nativeOrder())
        view.rewind()
        return FloatArray(view.remaining() / 4).also { view.asFloatBuffer().get(it) }
    }

    override fun close() = interpreter.close()
}
