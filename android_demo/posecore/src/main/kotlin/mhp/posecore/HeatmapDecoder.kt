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
 * Decodes the model's NHWC heatmap output (1, H, W, J*D), channel j*D + d, as mhp's Python reference does
 * (mhp/runtime/decode.py): one softmax per joint over its volume, then the expected index along x, y and z. The
 * buffer is read in memory order: once for every joint's peak, once more adding each channel's weight and its x and
 * y moments; the depth moment and the totals come from the per-channel sums.
 */
class HeatmapDecoder(val height: Int, val width: Int, val joints: Int, val depth: Int) {
    private val channels = joints * depth

    private fun index(y: Int, x: Int, j: Int, d: Int) = (y * width + x) * channels + j * depth + d

    /** Float32 logits. */
    fun softArgmax(logits: FloatArray): Decoded {
        val peaks = peaks { logits[it].toDouble() }
        return moments(peaks) { i, peak -> exp(logits[i] - peak) }
    }

    /**
     * Int8 logits with their scale: subtracting each joint's peak cancels the zero point, and every weight
     * exp(scale * (q - peak)) is read from a table (q - peak is a whole number from -255 to 0).
     */
    fun softArgmax(quantised: ByteArray, scale: Double): Decoded {
        val table = DoubleArray(Byte.MAX_VALUE - Byte.MIN_VALUE + 1) { exp(-scale * it) }
        val peaks = peaks { quantised[it].toDouble() }
        return moments(peaks) { i, peak -> table[(peak - quantised[i]).toInt()] }
    }

    /** Every joint's largest value over its volume. */
    private inline fun peaks(value: (Int) -> Double): DoubleArray {
        val peaks = DoubleArray(joints) { Double.NEGATIVE_INFINITY }
        var i = 0
        repeat(height * width) {
            for (j in 0 until joints) for (d in 0 until depth) peaks[j] = maxOf(peaks[j], value(i++))
        }
        return peaks
    }

    /** The softmax moments from [weight] (element index, its joint's peak) -> exp(value - peak). */
    private inline fun moments(peaks: DoubleArray, weight: (Int, Double) -> Double): Decoded {
        val sum = DoubleArray(channels)
        val sumX = DoubleArray(channels)
        val sumY = DoubleArray(channels)
        var i = 0
        for (y in 0 until height) for (x in 0 until width) for (j in 0 until joints) {
            val peak = peaks[j]
            for (c in j * depth until (j + 1) * depth) {
                val w = weight(i++, peak)
                sum[c] += w
                sumX[c] += w * x
                sumY[c] += w * y
            }
        }
        val coords = Array(joints) { DoubleArray(3) }
        val confidence = DoubleArray(joints)
        for (j in 0 until joints) {
            var total = 0.0
            var sx = 0.0
            var sy = 0.0
            var sz = 0.0
            for (d in 0 until depth) {
                val c = j * depth + d
                total += sum[c]
                sx += sumX[c]
                sy += sumY[c]
                sz += sum[c] * d
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
