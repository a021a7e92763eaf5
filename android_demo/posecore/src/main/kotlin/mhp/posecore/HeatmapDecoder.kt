package mhp.posecore

import kotlin.math.exp

/** Voxel coordinates (x, y, z) and the peak-voxel probability of every joint. */
class Decoded(val coords: Array<DoubleArray>, val confidence: DoubleArray) {
    companion object {
        /** The outputs of a model that decodes in its graph: coords (1, J, 3) and confidence (1, J), flattened. */
        fun fromFlat(coords: FloatArray, confidence: FloatArray): Decoded {
            require(coords.size == confidence.size * 3) { "coords hold ${coords.size} values for ${confidence.size} joints" }
            return Decoded(Array(confidence.size) { j -> DoubleArray(3) { coords[j * 3 + it].toDouble() } }, DoubleArray(confidence.size) { confidence[it].toDouble() })
        }
    }
}

/**
 * Decodes the model's NHWC heatmap output (1, H, W, J*D), channel j*D + d, exactly as mhp's Python
 * reference: one softmax per joint over its volume, then the expected index along x, y and z.
 */
class HeatmapDecoder(val height: Int, val width: Int, val joints: Int, val depth: Int) {
    private val channels = joints * depth

    private fun index(y: Int, x: Int, j: Int, d: Int) = (y * width + x) * channels + j * depth + d

    /** Float32 logits. */
    fun softArgmax(logits: FloatArray): Decoded = softArgmax { logits[it].toDouble() }

    /** Int8 logits with their scale: subtracting each joint's peak cancels the zero point. */
    fun softArgmax(quantised: ByteArray, scale: Double): Decoded = softArgmax { quantised[it] * scale }

    private fun softArgmax(value: (Int) -> Double): Decoded {
        val coords = Array(joints) { DoubleArray(3) }
        val confidence = DoubleArray(joints)
        for (j in 0 until joints) {
            var peak = Double.NEGATIVE_INFINITY
            forEachVoxel { y, x, d -> peak = maxOf(peak, value(index(y, x, j, d))) }
            var total = 0.0
            var sx = 0.0
            var sy = 0.0
            var sz = 0.0
            forEachVoxel { y, x, d ->
                val weight = exp(value(index(y, x, j, d)) - peak)
                total += weight
                sx += weight * x
                sy += weight * y
                sz += weight * d
            }
            coords[j] = doubleArrayOf(sx / total, sy / total, sz / total)
            confidence[j] = 1.0 / total
        }
        return Decoded(coords, confidence)
    }

    /** The most likely voxel (x, y, z) of every joint; ties go to the first in (y, x, z) order. */
    fun argmax(logits: FloatArray): Array<IntArray> = argmax { logits[it].toDouble() }

    fun argmax(quantised: ByteArray): Array<IntArray> = argmax { quantised[it].toDouble() }

    private fun argmax(value: (Int) -> Double): Array<IntArray> = Array(joints) { j ->
        var best = Double.NEGATIVE_INFINITY
        var found = intArrayOf(0, 0, 0)
        forEachVoxel { y, x, d ->
            val v = value(index(y, x, j, d))
            if (v > best) {
                best = v
                found = intArrayOf(x, y, d)
            }
        }
        found
    }

    private inline fun forEachVoxel(action: (Int, Int, Int) -> Unit) {
        for (y in 0 until height) for (x in 0 until width) for (d in 0 until depth) action(y, x, d)
    }
}

/** Int8 tensors: real = (q - zeroPoint) * scale. */
object Dequant {
    fun toFloat(q: Byte, scale: Double, zeroPoint: Int): Double = (q - zeroPoint) * scale
}
