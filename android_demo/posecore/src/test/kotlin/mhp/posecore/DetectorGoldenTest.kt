package mhp.posecore

import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestFactory
import java.io.File

/** Every detector case and the multi-person tracking script Python wrote (mhp.export.golden_detector), replayed here. */
class DetectorGoldenTest {
    private val folder = File(System.getProperty("mhp.golden") ?: error("run with -Dmhp.golden=FOLDER"), "detector")
    private val manifest = JSONObject(File(folder, "detector.json").readText())
    private val tolerance = manifest.getJSONObject("tolerances")

    @Test
    fun anchorsAndConstantsAreThePythonOnes() {
        assertEquals(manifest.getInt("input_size"), BlazePose.INPUT_SIZE)
        assertEquals(manifest.getInt("num_anchors"), BlazePose.NUM_ANCHORS)
        val strides = manifest.getJSONArray("strides")
        assertEquals(List(strides.length()) { strides.getInt(it) }, BlazePose.STRIDES.toList())
        assertEquals(manifest.getDouble("score_clip"), BlazePose.SCORE_CLIP)
        assertEquals(manifest.getDouble("min_score"), BlazePose.MIN_SCORE)
        assertEquals(manifest.getDouble("suppression_iou"), BlazePose.SUPPRESSION_IOU)
        assertEquals(manifest.getDouble("crop_margin"), BlazePose.CROP_MARGIN)
        assertEquals(manifest.getDouble("region_margin"), BlazePose.REGION_MARGIN)
        assertClose(manifest.getJSONArray("anchors"), BlazePose.ANCHORS, tolerance.getDouble("anchor"), "anchors")
    }

    @TestFactory
    fun detectorCases(): List<DynamicTest> {
        val cases = manifest.getJSONArray("cases")
        assertTrue(cases.length() > 0)
        return List(cases.length()) { i ->
            val case = cases.getJSONObject(i)
            DynamicTest.dynamicTest(case.getString("name")) { check(case) }
        }
    }

    private fun check(case: JSONObject) {
        val dir = File(folder, case.getString("name"))
        val expected = JSONObject(File(dir, case.getString("expected")).readText())
        val size = case.getJSONArray("image_size_px")
        val width = size.getInt(0)
        val height = size.getInt(1)
        val recorded = expected.getJSONArray("image_size_px")
        assertEquals(listOf(width, height), listOf(recorded.getInt(0), recorded.getInt(1)), "image size")
        val output = DetectorOutput(littleEndianFloats(File(dir, case.getString("boxes"))), littleEndianFloats(File(dir, case.getString("scores"))))
        val box = tolerance.getDouble("box")
        val pixels = tolerance.getDouble("pixels")
        val score = tolerance.getDouble("score")

        val letterbox = Letterbox(width, height)
        val rows = expected.getJSONArray("letterbox_affine")
        assertEquals(2, rows.length(), "letterbox affine rows")
        val affine = doubles(rows.getJSONArray(0)) + doubles(rows.getJSONArray(1))
        for (i in 0 until 6) assertEquals(affine[i], letterbox.affine.m[i], box, "letterbox affine[$i]")
        assertClose(expected.getJSONArray("padding"), letterbox.padding, box, "padding")

        val minScore = manifest.getDouble("min_score")
        val hits = BlazePose.decode(output, minScore)
        val anchors = expected.getJSONArray("kept_anchors")
        assertEquals(List(anchors.length()) { anchors.getInt(it) }, hits.map { it.anchor }, "kept anchors")
        assertClose(expected.getJSONArray("kept_scores"), hits.map { it.score }.toDoubleArray(), score, "kept scores")
        assertClose(expected.getJSONArray("kept_boxes"), hits.map { it.box }.toTypedArray(), box, "kept boxes")
        val keypoints = expected.getJSONArray("kept_keypoints")
        assertEquals(keypoints.length(), hits.size, "kept keypoints")
        for (k in hits.indices) assertClose(keypoints.getJSONArray(k), hits[k].keypoints, box, "kept keypoints[$k]")

        val people = BlazePose.detections(output, width, height, minScore)
        val records = expected.getJSONArray("detections")
        assertEquals(records.length(), people.size, "detections")
        for ((k, person) in people.withIndex()) {
            val record = records.getJSONObject(k)
            assertEquals(record.getDouble("score"), person.score, score, "score of detection $k")
            assertClose(record.getJSONArray("face_box_xywh_px"), person.box, pixels, "face box $k")
            assertClose(record.getJSONArray("keypoints_px"), person.keypoints, pixels, "keypoints $k")
            assertClose(record.getJSONArray("crop_box_xywh_px"), person.cropBox, pixels, "crop box $k")
            assertClose(record.getJSONArray("region_xywh_px"), person.region, pixels, "region $k")
            assertClose(record.getJSONArray("person_box_xywh_px"), person.personBox(width, height), pixels, "person box $k")
        }
        assertEquals(expected.getBoolean("anybody"), BlazePose.anybody(people), "anybody")
        if (case.has("image")) checkInput(case, dir, width, height)
    }

    /** A real run: packing the photo gives the input LiteRT was given. */
    private fun checkInput(case: JSONObject, dir: File, width: Int, height: Int) {
        val frame = PixelBuffer(File(dir, case.getString("image")).readBytes(), width, height)
        val packed = BlazePose.pack(frame, 0)
        val reference = littleEndianFloats(File(dir, case.getString("input")))
        assertEquals(reference.size, packed.size, "input size")
        val tol = tolerance.getDouble("input")
        val worst = packed.indices.maxOf { Math.abs(packed[it] - reference[it]).toDouble() }
        assertTrue(worst <= tol, "packed input differs from LiteRT's by up to $worst (tolerance $tol)")
    }

    /** The multi-person tracker replays Python's script: detector runs, ids, boxes cut, found, written, box after. */
    @Test
    fun tracksFollowThePythonScript() {
        val script = JSONObject(File(folder, manifest.getString("tracking")).readText())
        val size = script.getJSONArray("image_size_px")
        val tracks = Tracks(
            size.getInt(0), size.getInt(1), script.getDouble("min_confidence"), script.getInt("detect_every"),
            script.getInt("max_missed"), script.getDouble("min_iou"),
        )
        val answers = script.getJSONArray("detections")
        val steps = script.getJSONArray("steps")
        val pixels = tolerance.getDouble("pixels")
        assertEquals(answers.length(), steps.length())
        for (s in 0 until steps.length()) {
            val step = steps.getJSONObject(s)
            val index = step.getInt("index")
            var ran = false
            val cut = tracks.boxes(index) {
                ran = true
                answers.getJSONArray(index).let { a -> List(a.length()) { doubles(a.getJSONArray(it)) } }
            }
            assertEquals(step.getBoolean("detector_ran"), ran, "detector ran in frame $index")
            val people = step.getJSONArray("people")
            assertEquals(people.length(), cut.size, "people cut from frame $index")
            for ((k, pair) in cut.withIndex()) {
                val (id, box) = pair
                val person = people.getJSONObject(k)
                val what = "frame $index, person $k"
                assertEquals(person.getInt("track_id"), id, "track id, $what")
                assertClose(person.getJSONArray("box_xywh_px"), box, pixels, "box cut, $what")
                assertEquals(person.getBoolean("found_now"), tracks.foundNow(id), "found now, $what")
                val joints = person.getJSONArray("joints_img_px").let { a -> Array(a.length()) { doubles(a.getJSONArray(it)) } }
                assertEquals(person.getBoolean("written"), tracks.follow(id, joints, doubles(person.getJSONArray("confidence"))), "written, $what")
                assertClose(person.getJSONArray("box_after_xywh_px"), tracks.tracks.first { it.id == id }.box, pixels, "box after, $what")
            }
        }
    }
}
