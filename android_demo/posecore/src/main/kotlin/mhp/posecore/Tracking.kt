package mhp.posecore

/** Person boxes [x, y, w, h] in upright frame pixels, as mhp.infer.boxes: a centred square, or the previous joints' hull. */
object Boxes {
    /** With the model's 1.25 crop expansion the crop of this box is exactly the centred square of the frame. */
    const val CENTRED_FRACTION = 0.8

    /** Joints stop short of the head top and the soles: their hull is widened to a person box. */
    const val JOINT_BOX_MARGIN = 1.2

    fun centred(width: Int, height: Int): DoubleArray {
        val side = CENTRED_FRACTION * minOf(width, height)
        return doubleArrayOf((width - side) / 2, (height - side) / 2, side, side)
    }

    fun fromJoints(joints: Array<DoubleArray>, margin: Double = JOINT_BOX_MARGIN): DoubleArray {
        val xs = joints.map { it[0] }
        val ys = joints.map { it[1] }
        val w = maxOf(xs.max() - xs.min(), 1.0) * margin
        val h = maxOf(ys.max() - ys.min(), 1.0) * margin
        val cx = (xs.max() + xs.min()) / 2
        val cy = (ys.max() + ys.min()) / 2
        return doubleArrayOf(cx - w / 2, cy - h / 2, w, h)
    }
}

/**
 * One person through the camera feed: the centred box first, then the box of the previous frame's joints (as
 * BlazePose tracks); back to the centred box when the mean confidence drops below [minConfidence] or the pose
 * leaves the frame.
 */
class BoxTracker(private val width: Int, private val height: Int, private val minConfidence: Double = MIN_CONFIDENCE) {
    var box: DoubleArray = Boxes.centred(width, height)
        private set
    var resets = 0
        private set

    /** Moves the box to this frame's joints; true when the track was lost and re-initialised. */
    fun update(joints: Array<DoubleArray>, confidence: DoubleArray): Boolean {
        val next = Boxes.fromJoints(joints)
        val inside = next[0] < width && next[1] < height && next[0] + next[2] > 0 && next[1] + next[3] > 0
        if (confidence.average() < minConfidence || !inside) {
            box = Boxes.centred(width, height)
            resets += 1
            return true
        }
        box = next
        return false
    }

    companion object {
        const val MIN_CONFIDENCE = 0.05
    }
}

/** One tracked person: [box] is where it is cut from in the next frame, [anchor] its last detection (what new detections are matched to). */
class Track(val id: Int, box: DoubleArray) {
    var box: DoubleArray = box
        internal set
    var anchor: DoubleArray = box
        internal set

    /** Detections in a row that did not find it. */
    var missed = 0
        internal set
    var lost = false
        internal set

    /** Found by the detector in the current frame. */
    var fresh = true
        internal set
}

/**
 * Several people through the camera feed with stable ids, as mhp.infer.tracking.Tracks: the detector runs on the
 * first frame, every [detectEvery] frames and on the frame after a track is lost; its boxes are matched to the tracks
 * by IoU with each track's last detection (greedy, best first, at least [minIou]); an unmatched box starts a track, a
 * track unmatched more than [maxMissed] detections in a row ends. Between detections a box follows its joints.
 */
class Tracks(
    private val width: Int,
    private val height: Int,
    private val minConfidence: Double = BoxTracker.MIN_CONFIDENCE,
    private val detectEvery: Int = DETECT_EVERY,
    private val maxMissed: Int = MAX_MISSED,
    private val minIou: Double = MIN_IOU,
) {
    private val all = mutableListOf<Track>()
    private var nextId = 0

    init {
        require(detectEvery > 0) { "detectEvery $detectEvery: the detector must run at least every frame count > 0" }
    }

    /** The live tracks, oldest (lowest id) first, lost ones included. */
    val tracks: List<Track> get() = all.toList()

    /** (track id, box) of every person to cut from frame [index]; [detect] (the body boxes in the frame) is called only when due. */
    fun boxes(index: Int, detect: () -> List<DoubleArray>): List<Pair<Int, DoubleArray>> {
        for (track in all) track.fresh = false
        if (all.isEmpty() || index.mod(detectEvery) == 0 || all.any { it.lost }) match(detect())
        return all.filter { !it.lost }.map { it.id to it.box }
    }

    /** Assigns detections to tracks (best IoU first), starts tracks for the rest, ends long-missed tracks. */
    fun match(found: List<DoubleArray>) {
        found.forEach { require(it.size == 4) { "a detected box has ${it.size} values, not [x, y, w, h]" } }
        val pairs = mutableListOf<Triple<Double, Int, Int>>()
        for (i in all.indices) for (j in found.indices) pairs += Triple(overlap(all[i].anchor, found[j]), i, j)
        // Python sorts the (iou, track, box) tuples in reverse: ties go to the later track, then the later box
        pairs.sortWith(compareByDescending<Triple<Double, Int, Int>> { it.first }.thenByDescending { it.second }.thenByDescending { it.third })
        val matchedTracks = mutableSetOf<Int>()
        val matchedBoxes = mutableSetOf<Int>()
        for ((score, i, j) in pairs) {
            if (score < minIou) break
            if (i in matchedTracks || j in matchedBoxes) continue
            matchedTracks += i
            matchedBoxes += j
            val track = all[i]
            track.box = found[j]
            track.anchor = found[j]
            track.missed = 0
            track.lost = false
            track.fresh = true
        }
        for (i in all.indices) if (i !in matchedTracks) all[i].missed += 1
        all.removeAll { it.missed > maxMissed }
        for (j in found.indices) if (j !in matchedBoxes) all += Track(nextId++, found[j])
    }

    /** Whether the detector found this track's person in the current frame. */
    fun foundNow(trackId: Int): Boolean = track(trackId).fresh

    /**
     * Moves the track to its person's joints, or marks it lost when the mean [confidence] is below the minimum or the
     * joints' box is outside the frame; whether the person is shown: confident, or found by the detector this frame.
     */
    fun follow(trackId: Int, joints: Array<DoubleArray>, confidence: DoubleArray): Boolean {
        require(joints.isNotEmpty() && confidence.isNotEmpty()) { "track $trackId: a pose with ${joints.size} joints and ${confidence.size} confidences" }
        val track = track(trackId)
        val next = Boxes.fromJoints(joints)
        val inside = next[0] < width && next[1] < height && next[0] + next[2] > 0 && next[1] + next[3] > 0
        if (confidence.average() < minConfidence || !inside) {
            track.lost = true
            return track.fresh
        }
        track.box = next
        return true
    }

    private fun track(trackId: Int): Track = all.find { it.id == trackId } ?: throw IllegalArgumentException("no track $trackId")

    companion object {
        const val DETECT_EVERY = 10
        const val MAX_MISSED = 2
        const val MIN_IOU = 0.3

        /** IoU of two [x, y, w, h] boxes. */
        fun overlap(a: DoubleArray, b: DoubleArray): Double = BlazePose.iou(BlazePose.corners(a), BlazePose.corners(b))
    }
}
