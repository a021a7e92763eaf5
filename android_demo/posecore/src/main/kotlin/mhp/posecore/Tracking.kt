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
