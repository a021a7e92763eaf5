package mhp.posecore

import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import kotlin.math.exp
import kotlin.random.Random

/** The detector's post-processing and the multi-person tracker on hand-computed cases. */
class DetectorTest {
    private fun hit(anchor: Int, score: Double, box: DoubleArray, x: Double, y: Double) =
        AnchorHit(anchor, score, box, Array(4) { doubleArrayOf(x, y) })

    private fun person(score: Double, hipX: Double, hipY: Double, radius: Double) =
        Detection(score, doubleArrayOf(hipX, hipY - 2 * radius, 10.0, 10.0), arrayOf(doubleArrayOf(hipX, hipY), doubleArrayOf(hipX, hipY - radius), doubleArrayOf(0.0, 0.0), doubleArrayOf(0.0, 0.0)))

    @Test
    fun anchorsRunRowByRowTwoPerCellAndSixWhereStridesRepeat() {
        val anchors = BlazePose.ANCHORS
        assertEquals(2254, anchors.size)
        assertArrayEquals(doubleArrayOf(0.5 / 28, 0.5 / 28), anchors[0], 1e-15)
        assertArrayEquals(anchors[0], anchors[1], 0.0)
        assertArrayEquals(doubleArrayOf(1.5 / 28, 0.5 / 28), anchors[2], 1e-15) // x first
        assertArrayEquals(doubleArrayOf(0.5 / 28, 1.5 / 28), anchors[56], 1e-15) // the next row
        assertArrayEquals(doubleArrayOf(0.5 / 14, 0.5 / 14), anchors[1568], 1e-15) // stride 16
        for (k in 1960 until 1966) assertArrayEquals(doubleArrayOf(0.5 / 7, 0.5 / 7), anchors[k], 1e-15) // three layers of stride 32
        assertArrayEquals(doubleArrayOf(1.5 / 7, 0.5 / 7), anchors[1966], 1e-15)
        assertArrayEquals(doubleArrayOf(6.5 / 7, 6.5 / 7), anchors[2253], 1e-15)
    }

    @Test
    fun logitsAreClippedAndTheThresholdScoreIsKept() {
        assertEquals(0.5, BlazePose.sigmoid(0.0), 0.0)
        assertEquals(1.0 / (1.0 + exp(-100.0)), BlazePose.sigmoid(1e6), 0.0)
        assertEquals(1.0 / (1.0 + exp(100.0)), BlazePose.sigmoid(-1e6), 0.0)
        assertTrue(BlazePose.sigmoid(-1e6) > 0)
        val boxes = FloatArray(2254 * 12)
        val scores = FloatArray(2254) { -30f }
        floatArrayOf(4f, -6f, 40f, 44f, 3f, 50f, 2f, -30f, 1f, 20f, 0.5f, -15f).copyInto(boxes, 0)
        scores[0] = 0f // exactly 0.5: kept
        scores[1] = -0.001f // just below: dropped
        scores[5] = 1e6f // clipped to 100
        scores[6] = Float.NaN // never kept
        val hits = BlazePose.decode(DetectorOutput(boxes, scores))
        assertEquals(listOf(0, 5), hits.map { it.anchor })
        assertEquals(listOf(0.5, 1.0), hits.map { it.score })
        // anchor (1/56, 1/56) = (4/224, 4/224); centre (8, -2)/224, half size (20, 22)/224
        assertArrayEquals(doubleArrayOf(-12.0 / 224, -24.0 / 224, 28.0 / 224, 20.0 / 224), hits[0].box, 1e-12)
        assertArrayEquals(doubleArrayOf(7.0 / 224, 54.0 / 224), hits[0].keypoints[0], 1e-15)
        assertArrayEquals(doubleArrayOf(4.5 / 224, -11.0 / 224), hits[0].keypoints[3], 1e-15)
        assertThrows(IllegalArgumentException::class.java) { DetectorOutput(FloatArray(2254 * 12), FloatArray(2253)) }
    }

    @Test
    fun suppressionMergesOverlapsByScoreWeight() {
        val a = hit(0, 0.75, doubleArrayOf(0.0, 0.0, 1.0, 1.0), 0.0, 0.0)
        val b = hit(1, 0.25, doubleArrayOf(0.1, 0.0, 1.1, 1.0), 0.4, 0.8) // IoU 0.9 / 1.1 with a
        val c = hit(2, 0.5, doubleArrayOf(2.0, 2.0, 3.0, 3.0), 1.0, 1.0)
        val empty = hit(3, 0.2, doubleArrayOf(0.5, 0.5, 0.5, 0.5), 0.5, 0.5) // no area: IoU 0, still itself
        val merged = BlazePose.weightedSuppression(listOf(b, c, a, empty))
        assertEquals(listOf(0, 2, 3), merged.map { it.anchor })
        assertEquals(listOf(0.75, 0.5, 0.2), merged.map { it.score })
        assertArrayEquals(doubleArrayOf(0.025, 0.0, 1.025, 1.0), merged[0].box, 1e-15)
        assertArrayEquals(doubleArrayOf(0.1, 0.2), merged[0].keypoints[2], 1e-15)
        assertArrayEquals(c.box, merged[1].box, 0.0)
        assertEquals(0.9 / 1.1, BlazePose.iou(a.box, b.box), 1e-12)
        assertEquals(0.0, BlazePose.iou(empty.box, empty.box), 0.0)
    }

    @Test
    fun oneBodySeenTwiceIsOnePerson() {
        val weaker = person(0.6, 100.0, 100.0, 100.0)
        val stronger = person(0.9, 110.0, 100.0, 100.0) // body boxes [15, 15, 170, 170] and [25, 15, 170, 170]: IoU 0.89
        val apart = person(0.7, 400.0, 100.0, 50.0)
        assertEquals(listOf(0.9, 0.7), BlazePose.onePerBody(listOf(weaker, apart, stronger)).map { it.score })
        assertTrue(BlazePose.anybody(listOf(apart)))
        assertFalse(BlazePose.anybody(listOf(person(0.4, 0.0, 0.0, 1.0))))
        assertFalse(BlazePose.anybody(emptyList()))
    }

    @Test
    fun bodyBoxRegionAndClip() {
        val body = person(0.9, 100.0, 100.0, 100.0)
        assertArrayEquals(doubleArrayOf(15.0, 15.0, 170.0, 170.0), body.cropBox, 1e-12) // half side 0.85 x 100
        assertArrayEquals(doubleArrayOf(-25.0, -25.0, 250.0, 250.0), body.region, 1e-12) // half side 1.25 x 100
        assertArrayEquals(doubleArrayOf(0.0, 0.0, 200.0, 150.0), body.personBox(200, 150), 1e-12)
        assertArrayEquals(doubleArrayOf(0.0, 20.0, 30.0, 40.0), BlazePose.clipBox(doubleArrayOf(-10.0, 20.0, 50.0, 100.0), 30, 60), 0.0)
        assertArrayEquals(doubleArrayOf(30.0, 60.0, 0.0, 0.0), BlazePose.clipBox(doubleArrayOf(40.0, 70.0, 5.0, 5.0), 30, 60), 0.0)
    }

    @Test
    fun letterboxKeepsTheAspectWithBlackBorders() {
        val portrait = Letterbox(480, 640)
        assertArrayEquals(doubleArrayOf(0.35, 0.0, 28.0, 0.0, 0.35, 0.0), portrait.affine.m, 1e-12)
        assertArrayEquals(doubleArrayOf(0.125, 0.0, 0.125, 0.0), portrait.padding, 0.0)
        assertArrayEquals(doubleArrayOf(0.0, 0.0), portrait.removeFrom(0.125, 0.0), 1e-15)
        assertArrayEquals(doubleArrayOf(1.0, 1.0), portrait.removeFrom(0.875, 1.0), 1e-15)
        // a white sensor frame turned upright (48 x 64): white in the middle, black (-1) in the side bands
        val white = PixelBuffer(ByteArray(64 * 48 * 4) { -1 }, 64, 48, pixelStride = 4)
        val input = BlazePose.pack(white, 90)
        assertEquals(224 * 224 * 3, input.size)
        assertEquals(1f, input[(112 * 224 + 112) * 3])
        assertEquals(-1f, input[(112 * 224 + 10) * 3 + 2])
        assertEquals(-1f, input[(112 * 224 + 214) * 3 + 1])
        val noise = PixelBuffer(Random(5).nextBytes(64 * 48 * 3), 64, 48)
        val levels = InputPacker.pack(noise, Orientation.bufferToUpright(64, 48, 270).then(Letterbox(48, 64).affine), 224)
        assertArrayEquals(FloatArray(levels.size) { (levels[it].toInt() and 0xFF) / 127.5f - 1f }, BlazePose.pack(noise, 270))
    }

    @Test
    fun tracksKeepTheirIdsAndRunTheDetectorOnlyWhenDue() {
        val a = doubleArrayOf(100.0, 100.0, 100.0, 200.0)
        val b = doubleArrayOf(400.0, 100.0, 100.0, 200.0)
        val tracks = Tracks(640, 480)
        var calls = 0
        assertEquals(listOf(0, 1), tracks.boxes(0) { calls += 1; listOf(a, b) }.map { it.first })
        assertTrue(tracks.foundNow(0))
        val joints = arrayOf(doubleArrayOf(110.0, 110.0), doubleArrayOf(190.0, 290.0)) // hull 80 x 180, widened 1.2x
        assertTrue(tracks.follow(0, joints, doubleArrayOf(0.5, 0.5)))
        assertArrayEquals(doubleArrayOf(102.0, 92.0, 96.0, 216.0), tracks.tracks[0].box, 1e-9)
        val next = tracks.boxes(1) { calls += 1; emptyList() }
        assertEquals(1, calls)
        assertFalse(tracks.foundNow(0))
        assertArrayEquals(doubleArrayOf(102.0, 92.0, 96.0, 216.0), next[0].second, 1e-9)
        // frame 10: the detector is due; its boxes come in the other order and are matched by overlap
        val moved = tracks.boxes(10) { calls += 1; listOf(doubleArrayOf(410.0, 100.0, 100.0, 200.0), doubleArrayOf(110.0, 100.0, 100.0, 200.0)) }
        assertEquals(2, calls)
        assertEquals(listOf(0, 1), moved.map { it.first })
        assertArrayEquals(doubleArrayOf(110.0, 100.0, 100.0, 200.0), moved[0].second, 0.0)
        assertEquals(0.9 / 1.1, Tracks.overlap(a, moved[0].second), 1e-12)
        assertThrows(IllegalArgumentException::class.java) { tracks.foundNow(7) }
    }

    @Test
    fun aLostTrackIsCutAgainOnlyWhenTheDetectorFindsIt() {
        val a = doubleArrayOf(100.0, 100.0, 100.0, 200.0)
        val joints = arrayOf(doubleArrayOf(110.0, 110.0), doubleArrayOf(190.0, 290.0))
        val tracks = Tracks(640, 480)
        tracks.boxes(0) { listOf(a) }
        assertTrue(tracks.follow(0, joints, doubleArrayOf(0.01, 0.01))) // unsure, but found in this frame: shown
        assertTrue(tracks.tracks[0].lost)
        var ran = 0
        for (frame in 1..3) {
            assertEquals(emptyList<Pair<Int, DoubleArray>>(), tracks.boxes(frame) { ran += 1; emptyList() }) // missed
        }
        assertEquals(3, ran)
        assertTrue(tracks.tracks.isEmpty()) // missed three times in a row: ended
        assertEquals(listOf(1), tracks.boxes(4) { listOf(a) }.map { it.first }) // ids are never reused
        tracks.boxes(5) { error("not due") }
        val away = Array(2) { doubleArrayOf(joints[it][0] + 1000.0, joints[it][1]) }
        assertFalse(tracks.follow(1, away, doubleArrayOf(0.5, 0.5))) // out of the frame and not found now: not shown
        assertTrue(tracks.tracks[0].lost)
    }

    @Test
    fun equalOverlapsGoToTheLaterTrackAsInPython() {
        val a = doubleArrayOf(100.0, 100.0, 100.0, 200.0)
        val tracks = Tracks(640, 480)
        tracks.boxes(0) { listOf(a, a.copyOf()) }
        tracks.boxes(10) { listOf(a) }
        assertFalse(tracks.foundNow(0))
        assertTrue(tracks.foundNow(1))
        assertEquals(listOf(1, 0), tracks.tracks.map { it.missed })
    }
}
