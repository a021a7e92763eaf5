package mhp.demo

import androidx.test.ext.junit.runners.AndroidJUnit4
import androidx.test.platform.app.InstrumentationRegistry
import mhp.posecore.BlazePose
import mhp.posecore.PixelBuffer
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith

/**
 * The bundled person detector (copyMhpModels copies pose_detection.tflite; build without -Pmhp.detector=none) on this
 * phone: LiteRT loads it, the two outputs are found by shape, and an empty grey frame holds nobody (Python's LiteRT
 * run of the same file scores uniform frames below 0.03).
 */
@RunWith(AndroidJUnit4::class)
class DetectorModelTest {
    private val app = InstrumentationRegistry.getInstrumentation().targetContext

    @Test
    fun bundledDetectorFindsNobodyInAnEmptyFrame() {
        val width = 480
        val height = 640
        val frame = PixelBuffer(ByteArray(width * height * 4) { 100 }, width, height, pixelStride = 4)
        LiteRtDetector(ModelAssets.detector(app.assets), 2).use { detector ->
            val output = detector.run(BlazePose.pack(frame, 0))
            assertEquals(BlazePose.NUM_ANCHORS, output.scores.size)
            assertEquals(BlazePose.NUM_ANCHORS * BlazePose.BOX_VALUES, output.boxes.size)
            assertTrue("scores ${output.scores.max()}", output.scores.all { it.isFinite() })
            assertTrue(BlazePose.detections(output, width, height).isEmpty())
        }
    }

    @Test
    fun theDetectorIsNotListedAsAPoseModel() {
        assertTrue(ModelAssets.DETECTOR !in ModelAssets.names(app.assets))
    }
}
