package mhp.posecore

import kotlin.math.exp
import kotlin.math.sqrt

/**
 * One person the detector found, in upright frame pixels: [score] in 0..1, the face [box] [x, y, w, h] and four
 * [keypoints] (x, y): 0 the mid-hip centre, 1 a point whose distance from it is the radius of the whole body's
 * circle, 2 and 3 the same for the upper body.
 */
class Detection(val score: Double, val box: DoubleArray, val keypoints: Array<DoubleArray>) {
    /** The square the pose model is cut from (the tracker's box): see [BlazePose.bodyBox]. */
    val cropBox: DoubleArray get() = BlazePose.bodyBox(this)

    /** MediaPipe's region: the crop box's square enlarged (REGION_MARGIN / CROP_MARGIN). */
    val region: DoubleArray get() = BlazePose.regionOf(cropBox)

    /** The person box an app reports: the region's part inside the [width] x [height] frame. */
    fun personBox(width: Int, height: Int): DoubleArray = BlazePose.clipBox(region, width, height)
}

/** One anchor the decoder kept: its index, sigmoid score, box [x1, y1, x2, y2] and keypoints, normalised on the input. */
class AnchorHit(val anchor: Int, val score: Double, val box: DoubleArray, val keypoints: Array<DoubleArray>)

/** The detector model's raw outputs for one input: [boxes] 2254 x 12 (x, y, w, h, 4 keypoints) and [scores] 2254 logits. */
class DetectorOutput(val boxes: FloatArray, val scores: FloatArray) {
    init {
        require(scores.size == BlazePose.NUM_ANCHORS && boxes.size == BlazePose.NUM_ANCHORS * BlazePose.BOX_VALUES) {
            "detector outputs hold ${boxes.size} box values and ${scores.size} scores, not ${BlazePose.NUM_ANCHORS} x ${BlazePose.BOX_VALUES} and ${BlazePose.NUM_ANCHORS}"
        }
    }
}

/**
 * MediaPipe's person detector (pose_detection.tflite) as the pipeline sees it: [run] takes the letterboxed input of
 * [BlazePose.pack] (1 x 224 x 224 x 3 float32, NHWC RGB in [-1, 1]) and gives both raw outputs.
 */
interface DetectorRunner {
    fun run(input: FloatArray): DetectorOutput
}

/** The image -> input letterbox of a [width] x [height] frame: the [affine] and the [padding] [left, top, right, bottom] as fractions of the input. */
class Letterbox(val width: Int, val height: Int, val size: Int = BlazePose.INPUT_SIZE) {
    init {
        require(width > 0 && height > 0 && size > 0) { "letterbox of ${width}x$height into $size pixels: sizes must be positive" }
    }

    val affine: Affine
        get() {
            val side = maxOf(width, height).toDouble()
            val scale = size / side
            return Affine(doubleArrayOf(scale, 0.0, (side - width) / 2 * scale, 0.0, scale, (side - height) / 2 * scale))
        }

    /** Computed once: [removeFrom] reads it for every box corner and keypoint of every detection. */
    val padding: DoubleArray = maxOf(width, height).toDouble().let { side ->
        doubleArrayOf(side - width, side - height, side - width, side - height).map { it / (2 * side) }.toDoubleArray()
    }

    /** Normalised (x, y) on the letterboxed input -> normalised on the frame. */
    fun removeFrom(x: Double, y: Double): DoubleArray {
        val (left, top, right, bottom) = padding.toList()
        return doubleArrayOf((x - left) / (1.0 - left - right), (y - top) / (1.0 - top - bottom))
    }
}

/**
 * BlazePose's detector post-processing, as mhp.infer.blazepose (MediaPipe's pose-detection graph): SSD anchors, the
 * letterboxed input, the decode of the raw outputs, weighted suppression, one detection per body, and the boxes.
 */
object BlazePose {
    const val INPUT_SIZE = 224
    const val NUM_ANCHORS = 2254
    const val NUM_KEYPOINTS = 4
    const val BOX_VALUES = 4 + 2 * NUM_KEYPOINTS
    const val SCORE_CLIP = 100.0

    /** A person is there when a detection scores this (mhp's presence rule; MediaPipe's graph keeps 0.2). */
    const val MIN_SCORE = 0.5
    const val SUPPRESSION_IOU = 0.3

    /** Two detections whose body boxes overlap more are one person seen twice (e.g. upright and inverted). */
    const val BODY_IOU = 0.5

    /** The pose model's box: the body circle's square shrunk to the joints. */
    const val CROP_MARGIN = 0.85

    /** MediaPipe's region: the body circle's square enlarged. */
    const val REGION_MARGIN = 1.25
    val STRIDES = intArrayOf(8, 16, 32, 32, 32)

    /** The anchor centres (x, y) in [0, 1], in the model's output order; computed once. */
    val ANCHORS: Array<DoubleArray> by lazy { ssdAnchors() }

    /** Layers of one stride share a grid: two anchors per cell and layer, centres at cell + 0.5, row by row. */
    fun ssdAnchors(inputSize: Int = INPUT_SIZE, strides: IntArray = STRIDES): Array<DoubleArray> {
        val centres = mutableListOf<DoubleArray>()
        var layer = 0
        while (layer < strides.size) {
            var same = layer
            while (same < strides.size && strides[same] == strides[layer]) same += 1
            val cells = (inputSize + strides[layer] - 1) / strides[layer]
            val perCell = 2 * (same - layer)
            for (y in 0 until cells) for (x in 0 until cells) {
                repeat(perCell) { centres += doubleArrayOf((x + 0.5) / cells, (y + 0.5) / cells) }
            }
            layer = same
        }
        return centres.toTypedArray()
    }

    /**
     * The detector's input from a camera buffer: the upright frame letterboxed into [size] x [size] with the same
     * bilinear sampling as [InputPacker] (black border), NHWC RGB float32 in [-1, 1] (value / 127.5 - 1).
     */
    fun pack(frame: PixelBuffer, rotationDegrees: Int, size: Int = INPUT_SIZE): FloatArray {
        val upright = Orientation.uprightSize(frame.width, frame.height, rotationDegrees)
        val toInput = Orientation.bufferToUpright(frame.width, frame.height, rotationDegrees).then(Letterbox(upright[0], upright[1], size).affine)
        val levels = InputPacker.pack(frame, toInput, size)
        return FloatArray(levels.size) { (levels[it].toInt() and 0xFF) / 127.5f - 1f }
    }

    /** The sigmoid of a logit clipped to +-[SCORE_CLIP] (no overflow). */
    fun sigmoid(logit: Double): Double = 1.0 / (1.0 + exp(-logit.coerceIn(-SCORE_CLIP, SCORE_CLIP)))

    /** The anchors scoring at least [minScore]: box and keypoints relative to the anchor, x first, over the input side. */
    fun decode(output: DetectorOutput, minScore: Double = MIN_SCORE, anchors: Array<DoubleArray> = ANCHORS): List<AnchorHit> {
        require(anchors.size == NUM_ANCHORS) { "${anchors.size} anchors for $NUM_ANCHORS outputs" }
        val hits = mutableListOf<AnchorHit>()
        for (i in 0 until NUM_ANCHORS) {
            val score = sigmoid(output.scores[i].toDouble())
            if (!(score >= minScore)) continue
            val v = DoubleArray(BOX_VALUES) { output.boxes[i * BOX_VALUES + it].toDouble() / INPUT_SIZE }
            val (ax, ay) = anchors[i].toList()
            val cx = v[0] + ax
            val cy = v[1] + ay
            val box = doubleArrayOf(cx - v[2] / 2, cy - v[3] / 2, cx + v[2] / 2, cy + v[3] / 2)
            hits += AnchorHit(i, score, box, Array(NUM_KEYPOINTS) { doubleArrayOf(v[4 + 2 * it] + ax, v[5 + 2 * it] + ay) })
        }
        return hits
    }

    /** Intersection over union of two [x1, y1, x2, y2] boxes; 0 when the union is empty. */
    fun iou(a: DoubleArray, b: DoubleArray): Double {
        val inter = (minOf(a[2], b[2]) - maxOf(a[0], b[0])).coerceAtLeast(0.0) * (minOf(a[3], b[3]) - maxOf(a[1], b[1])).coerceAtLeast(0.0)
        val union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
        return if (union > 0) inter / union else 0.0
    }

    /**
     * MediaPipe's weighted suppression: best first (stable), each hit with every remaining one overlapping it by more
     * than [threshold] IoU replaced by their score-weighted mean box and keypoints, with the best one's score and anchor.
     */
    fun weightedSuppression(hits: List<AnchorHit>, threshold: Double = SUPPRESSION_IOU): List<AnchorHit> {
        var order = hits.sortedByDescending { it.score }
        val merged = mutableListOf<AnchorHit>()
        while (order.isNotEmpty()) {
            val best = order[0]
            val overlap = order.mapIndexed { k, hit -> k == 0 || iou(best.box, hit.box) > threshold }
            val group = order.filterIndexed { k, _ -> overlap[k] }
            val total = group.sumOf { it.score }
            val weights = group.map { it.score / total }
            val box = DoubleArray(4) { c -> group.indices.sumOf { group[it].box[c] * weights[it] } }
            val points = Array(NUM_KEYPOINTS) { p -> DoubleArray(2) { c -> group.indices.sumOf { group[it].keypoints[p][c] * weights[it] } } }
            merged += AnchorHit(best.anchor, best.score, box, points)
            order = order.filterIndexed { k, _ -> !overlap[k] }
        }
        return merged
    }

    /** The whole post-processing for a [width] x [height] upright frame: decode, suppress, undo the letterbox, pixels, one per body. */
    fun detections(output: DetectorOutput, width: Int, height: Int, minScore: Double = MIN_SCORE): List<Detection> {
        val letterbox = Letterbox(width, height)
        fun pixels(x: Double, y: Double) = letterbox.removeFrom(x, y).let { doubleArrayOf(it[0] * width, it[1] * height) }
        val people = weightedSuppression(decode(output, minScore)).map { hit ->
            val low = pixels(hit.box[0], hit.box[1])
            val high = pixels(hit.box[2], hit.box[3])
            Detection(hit.score, doubleArrayOf(low[0], low[1], high[0] - low[0], high[1] - low[1]), Array(NUM_KEYPOINTS) { pixels(hit.keypoints[it][0], hit.keypoints[it][1]) })
        }
        return onePerBody(people.filter { d -> d.box.all { it.isFinite() } && d.keypoints.all { p -> p.all { it.isFinite() } } })
    }

    /** Best first, each detection dropped whose body box overlaps a kept one's by more than [threshold] IoU (one body seen twice). */
    fun onePerBody(detections: List<Detection>, threshold: Double = BODY_IOU): List<Detection> {
        val kept = mutableListOf<Detection>()
        for (detection in detections.sortedByDescending { it.score }) {
            val corners = corners(bodyBox(detection))
            if (kept.all { iou(corners, corners(bodyBox(it))) <= threshold }) kept += detection
        }
        return kept
    }

    /** The upright square [x, y, w, h] around the body circle (centre: the hip keypoint; radius: its distance to keypoint 1), scaled by [margin]. */
    fun bodyBox(detection: Detection, margin: Double = CROP_MARGIN): DoubleArray {
        val (hip, body) = detection.keypoints
        val dx = body[0] - hip[0]
        val dy = body[1] - hip[1]
        val half = margin * sqrt(dx * dx + dy * dy)
        return doubleArrayOf(hip[0] - half, hip[1] - half, 2 * half, 2 * half)
    }

    /** The region of a [CROP_MARGIN] body box: the same centre, the side scaled by REGION_MARGIN / CROP_MARGIN. */
    fun regionOf(box: DoubleArray): DoubleArray {
        val scale = REGION_MARGIN / CROP_MARGIN
        val halfW = box[2] / 2 * scale
        val halfH = box[3] / 2 * scale
        val cx = box[0] + box[2] / 2
        val cy = box[1] + box[3] / 2
        return doubleArrayOf(cx - halfW, cy - halfH, 2 * halfW, 2 * halfH)
    }

    /** The part of [x, y, w, h] inside a [width] x [height] frame. */
    fun clipBox(box: DoubleArray, width: Int, height: Int): DoubleArray {
        val x1 = box[0].coerceIn(0.0, width.toDouble())
        val y1 = box[1].coerceIn(0.0, height.toDouble())
        val x2 = (box[0] + box[2]).coerceIn(0.0, width.toDouble())
        val y2 = (box[1] + box[3]).coerceIn(0.0, height.toDouble())
        return doubleArrayOf(x1, y1, x2 - x1, y2 - y1)
    }

    /** Whether anybody is there: a detection scoring at least [minScore]. */
    fun anybody(detections: List<Detection>, minScore: Double = MIN_SCORE): Boolean = detections.any { it.score >= minScore }

    /** [x, y, w, h] -> [x1, y1, x2, y2]. */
    fun corners(box: DoubleArray): DoubleArray = doubleArrayOf(box[0], box[1], box[0] + box[2], box[1] + box[3])
}
