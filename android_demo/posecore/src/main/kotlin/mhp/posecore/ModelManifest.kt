package mhp.posecore

import org.json.JSONObject

/** The parts of an mhp export manifest (`<artifact>.json`) the app needs; every shape and name comes from here. */
class ModelManifest(
    val format: String,
    val precision: String,
    val inputName: String,
    val inputShape: List<Int>,
    val inputLayout: String,
    val inputDtype: String,
    val outputNames: List<String>,
    val decode: String,
    val inputSize: Int,
    val heatmapWidth: Int,
    val heatmapHeight: Int,
    val depthBins: Int,
    val depthRangeMm: Double,
    val skeleton: Skeleton,
) {
    /** The heatmap artifacts (full INT8) need the soft-argmax in the app; the others output coordinates. */
    val decodesOnDevice: Boolean get() = decode == "host_soft_argmax"

    companion object {
        fun parse(text: String): ModelManifest {
            val root = JSONObject(text)
            require(root.optString("format_name") == "mhp-export-manifest") { "not an mhp export manifest" }
            val input = root.getJSONObject("input")
            val shape = input.getJSONArray("shape")
            val outputs = root.getJSONArray("outputs")
            val geometry = root.getJSONObject("geometry")
            val heatmap = geometry.getJSONArray("heatmap_size")
            return ModelManifest(
                format = root.getString("format"),
                precision = root.getString("precision"),
                inputName = input.getString("name"),
                inputShape = List(shape.length()) { shape.getInt(it) },
                inputLayout = input.getString("layout"),
                inputDtype = input.getString("dtype"),
                outputNames = List(outputs.length()) { outputs.getJSONObject(it).getString("name") },
                decode = root.getString("decode"),
                inputSize = geometry.getInt("input_size"),
                heatmapWidth = heatmap.getInt(0),
                heatmapHeight = heatmap.getInt(1),
                depthBins = geometry.getInt("depth_bins"),
                depthRangeMm = geometry.getDouble("depth_range_mm"),
                skeleton = Skeleton.fromJson(root.getJSONObject("joints")),
            )
        }
    }
}

/**
 * Cuts the model input from an RGB frame: for every crop pixel, bilinear sampling of the frame at the inverse
 * crop affine, black outside the frame (as OpenCV's warpAffine with a constant border), packed NHWC uint8.
 */
object InputPacker {
    fun pack(rgb: ByteArray, width: Int, height: Int, imageToCrop: Affine, size: Int): ByteArray {
        val toImage = imageToCrop.inverse()
        val out = ByteArray(size * size * 3)
        for (v in 0 until size) for (u in 0 until size) {
            val p = toImage.apply(u.toDouble(), v.toDouble())
            val x0 = Math.floor(p[0]).toInt()
            val y0 = Math.floor(p[1]).toInt()
            val fx = p[0] - x0
            val fy = p[1] - y0
            for (c in 0 until 3) {
                fun at(x: Int, y: Int): Double =
                    if (x < 0 || y < 0 || x >= width || y >= height) 0.0 else (rgb[(y * width + x) * 3 + c].toInt() and 0xFF).toDouble()
                val top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx
                val bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx
                out[(v * size + u) * 3 + c] = Math.round(top * (1 - fy) + bottom * fy).toInt().coerceIn(0, 255).toByte()
            }
        }
        return out
    }
}
