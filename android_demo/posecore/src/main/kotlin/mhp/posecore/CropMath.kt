package mhp.posecore

import kotlin.math.max
import kotlin.math.min

/** A 2x3 affine map: x' = a*x + b*y + c, y' = d*x + e*y + f. */
class Affine(val m: DoubleArray) {
    fun apply(x: Double, y: Double) = doubleArrayOf(m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5])

    /** This map first, then [next]. */
    fun then(next: Affine): Affine {
        val n = next.m
        return Affine(
            doubleArrayOf(
                n[0] * m[0] + n[1] * m[3], n[0] * m[1] + n[1] * m[4], n[0] * m[2] + n[1] * m[5] + n[2],
                n[3] * m[0] + n[4] * m[3], n[3] * m[1] + n[4] * m[4], n[3] * m[2] + n[4] * m[5] + n[5],
            ),
        )
    }

    fun inverse(): Affine {
        val det = m[0] * m[4] - m[1] * m[3]
        val a = m[4] / det
        val b = -m[1] / det
        val d = -m[3] / det
        val e = m[0] / det
        return Affine(doubleArrayOf(a, b, -(a * m[2] + b * m[5]), d, e, -(d * m[2] + e * m[5])))
    }
}

/** Person box -> square crop and back (reference §6.1 / §6.3), and model voxels -> pixels -> camera millimetres (reference §5). */
object CropMath {
    const val EXPANSION = 1.25
    const val DEPTH_RANGE_MM = 2000.0

    /**
     * Clip [x, y, w, h] to the image, widen to 1:1, expand 1.25x; null when nothing is inside the image or the box
     * holds NaN or an infinity (as mhp.geometry.process_bbox).
     */
    fun processBox(box: DoubleArray, imageWidth: Int, imageHeight: Int): DoubleArray? {
        if (box.size != 4 || !(box[0] + box[1] + box[2] + box[3]).isFinite()) return null
        val (x, y, w, h) = box.toList()
        val x1 = max(0.0, x)
        val y1 = max(0.0, y)
        val x2 = min(imageWidth - 1.0, x1 + max(0.0, w - 1.0))
        val y2 = min(imageHeight - 1.0, y1 + max(0.0, h - 1.0))
        if (w * h <= 0 || x2 < x1 || y2 < y1) return null
        var bw = x2 - x1
        var bh = y2 - y1
        val cx = x1 + bw / 2
        val cy = y1 + bh / 2
        if (bw > bh) bh = bw else if (bw < bh) bw = bh
        bw *= EXPANSION
        bh *= EXPANSION
        return doubleArrayOf(cx - bw / 2, cy - bh / 2, bw, bh)
    }

    /**
     * The crop of the centred person box (Boxes.centred, with the 1.25 expansion: the centred square of the frame),
     * what a frame is cut from when its tracked box is unusable (NaN, infinite, empty or outside the frame).
     */
    fun centredCrop(imageWidth: Int, imageHeight: Int): DoubleArray =
        processBox(Boxes.centred(imageWidth, imageHeight), imageWidth, imageHeight)
            ?: doubleArrayOf(0.0, 0.0, maxOf(imageWidth, imageHeight, 1).toDouble(), maxOf(imageWidth, imageHeight, 1).toDouble())

    /** Image pixels -> crop pixels for a processed box and a square crop of [size] pixels. */
    fun cropAffine(cropBox: DoubleArray, size: Int): Affine {
        val sx = size / cropBox[2]
        val sy = size / cropBox[3]
        val cx = cropBox[0] + cropBox[2] / 2
        val cy = cropBox[1] + cropBox[3] / 2
        return Affine(doubleArrayOf(sx, 0.0, size / 2.0 - cx * sx, 0.0, sy, size / 2.0 - cy * sy))
    }

    /** Voxel (x, y, z) -> (x_crop, y_crop, dz_mm relative to the root). */
    fun voxelToCrop(voxel: DoubleArray, heatmapWidth: Int, heatmapHeight: Int, depthBins: Int, size: Int) =
        doubleArrayOf(
            voxel[0] * size / heatmapWidth,
            voxel[1] * size / heatmapHeight,
            (voxel[2] / depthBins * 2.0 - 1.0) * DEPTH_RANGE_MM / 2.0,
        )

    /** Crop pixels with root-relative depth -> camera millimetres, given the crop, intrinsics and root depth. */
    fun cropToCamera(crop: DoubleArray, cropToImage: Affine, focal: DoubleArray, principal: DoubleArray, rootDepthMm: Double): DoubleArray {
        val image = cropToImage.apply(crop[0], crop[1])
        val z = crop[2] + rootDepthMm
        return doubleArrayOf((image[0] - principal[0]) / focal[0] * z, (image[1] - principal[1]) / focal[1] * z, z)
    }
}
