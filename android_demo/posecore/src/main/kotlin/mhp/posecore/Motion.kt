package mhp.posecore

import kotlin.math.PI
import kotlin.math.abs
import kotlin.math.cos
import kotlin.math.sin

/** One-Euro filter (Casiez et al. 2012) over a fixed-size vector, as mhp.infer.smoothing. Times in seconds. */
class OneEuroFilter(private val minCutoff: Double = 1.0, private val beta: Double = 0.05, private val dCutoff: Double = 1.0) {
    private var value: DoubleArray? = null
    private var speed: DoubleArray? = null
    private var time = 0.0

    private fun alpha(cutoff: Double, dt: Double): Double = 1.0 / (1.0 + 1.0 / (2 * PI * cutoff) / dt)

    fun reset() {
        value = null
        speed = null
    }

    fun filter(values: DoubleArray, t: Double): DoubleArray {
        val last = value
        val lastSpeed = speed
        if (last == null || lastSpeed == null || last.size != values.size || t <= time) {
            value = values.copyOf()
            speed = DoubleArray(values.size)
            time = t
            return values.copyOf()
        }
        val dt = t - time
        val aD = alpha(dCutoff, dt)
        val out = DoubleArray(values.size)
        for (i in values.indices) {
            lastSpeed[i] = aD * (values[i] - last[i]) / dt + (1 - aD) * lastSpeed[i]
            val a = alpha(minCutoff + beta * abs(lastSpeed[i]), dt)
            out[i] = a * values[i] + (1 - a) * last[i]
        }
        value = out.copyOf()
        time = t
        return out
    }
}

/** Frames per second over the last [window] frames; the clock is injected (nanoseconds). */
class FpsMeter(private val window: Int = 30, private val clock: () -> Long = System::nanoTime) {
    private val stamps = ArrayDeque<Long>()

    fun tick(): Double {
        stamps.addLast(clock())
        if (stamps.size > window) stamps.removeFirst()
        if (stamps.size < 2) return 0.0
        return (stamps.size - 1) * 1e9 / (stamps.last() - stamps.first())
    }
}

/** Orthographic orbit view of root-relative camera millimetres (x right, y down, z forward) for the 3D view. */
object Projection {
    fun project(point: DoubleArray, yawDegrees: Double, pitchDegrees: Double, scale: Double): DoubleArray {
        val yaw = yawDegrees * PI / 180
        val pitch = pitchDegrees * PI / 180
        val x = cos(yaw) * point[0] + sin(yaw) * point[2]
        val z = -sin(yaw) * point[0] + cos(yaw) * point[2]
        val y = cos(pitch) * point[1] - sin(pitch) * z
        return doubleArrayOf(x * scale, y * scale)
    }
}
