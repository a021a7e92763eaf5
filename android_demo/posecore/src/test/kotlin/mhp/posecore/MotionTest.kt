package mhp.posecore

import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

class MotionTest {
    @Test
    fun oneEuroPassesTheFirstSampleAndConstantsAndSmoothsJitter() {
        val filter = OneEuroFilter(minCutoff = 1.0, beta = 0.0)
        assertArrayEquals(doubleArrayOf(3.0, -1.0), filter.filter(doubleArrayOf(3.0, -1.0), 0.0), 1e-12)
        assertArrayEquals(doubleArrayOf(3.0, -1.0), filter.filter(doubleArrayOf(3.0, -1.0), 1.0 / 30), 1e-12)
        val jittery = OneEuroFilter(minCutoff = 1.0, beta = 0.0)
        var spread = 0.0
        for (i in 0 until 300) {
            val noisy = 100.0 + if (i % 2 == 0) 2.0 else -2.0
            val out = jittery.filter(doubleArrayOf(noisy), i / 30.0)[0]
            if (i > 50) spread = maxOf(spread, Math.abs(out - 100.0))
        }
        assertTrue(spread < 0.5, "jitter left: $spread")
    }

    @Test
    fun fpsMeterCountsFramesOverItsWindow() {
        var now = 0L
        val meter = FpsMeter(window = 5) { now }
        assertEquals(0.0, meter.tick())
        var fps = 0.0
        repeat(10) {
            now += 40_000_000L // 25 frames per second
            fps = meter.tick()
        }
        assertEquals(25.0, fps, 1e-9)
    }

    @Test
    fun projectionTurnsDepthIntoWidthAtNinetyDegrees() {
        assertArrayEquals(doubleArrayOf(2.0, 4.0), Projection.project(doubleArrayOf(1.0, 2.0, 3.0), 0.0, 0.0, 2.0), 1e-9)
        assertArrayEquals(doubleArrayOf(3.0, 2.0), Projection.project(doubleArrayOf(1.0, 2.0, 3.0), 90.0, 0.0, 1.0), 1e-9)
        assertEquals(-4.5, Dequant.toFloat((-1).toByte(), 0.5, 8), 1e-12)
    }
}
