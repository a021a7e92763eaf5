package mhp.posecore

import org.json.JSONException
import org.json.JSONObject

/** A tensor's signature name, shape and element type (`float32`, `int8`, `uint8`). */
data class TensorSpec(val name: String, val shape: List<Int>, val dtype: String) {
    override fun toString() = "$name ${shape.joinToString("x")} $dtype"
}

/** The parts of an mhp export manifest (`<artifact>.json`) the app needs; every shape and name comes from here. */
class ModelManifest(
    val model: String,
    val format: String,
    val precision: String,
    val input: TensorSpec,
    val inputLayout: String,
    val outputs: List<TensorSpec>,
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

    /** Null when the model's signature tensors are the manifest's, else what differs (the model and manifest disagree). */
    fun mismatch(modelInputs: List<TensorSpec>, modelOutputs: List<TensorSpec>): String? {
        for (expected in listOf(input) + outputs) {
            val pool = if (expected === input) modelInputs else modelOutputs
            val actual = pool.find { it.name == expected.name }
                ?: return "the model has no tensor '${expected.name}' (it has ${pool.joinToString { it.name }})"
            if (actual != expected) return "tensor '${expected.name}' is ${actual.shape.joinToString("x")} ${actual.dtype} in the model, ${expected.shape.joinToString("x")} ${expected.dtype} in the manifest"
        }
        return null
    }

    companion object {
        /** Parses a manifest; a malformed one gives an IllegalArgumentException naming what is wrong. */
        fun parse(text: String): ModelManifest = try {
            read(JSONObject(text))
        } catch (e: JSONException) {
            throw IllegalArgumentException("not a valid mhp export manifest: ${e.message}")
        }

        private fun read(root: JSONObject): ModelManifest {
            require(root.optString("format_name") == "mhp-export-manifest") { "not an mhp export manifest (format_name '${root.optString("format_name")}')" }
            val input = root.getJSONObject("input")
            val outputs = root.getJSONArray("outputs")
            val geometry = root.getJSONObject("geometry")
            val heatmap = geometry.getJSONArray("heatmap_size")
            val manifest = ModelManifest(
                model = root.getString("model"),
                format = root.getString("format"),
                precision = root.getString("precision"),
                input = tensor(input),
                inputLayout = input.getString("layout"),
                outputs = List(outputs.length()) { tensor(outputs.getJSONObject(it)) },
                decode = root.getString("decode"),
                inputSize = geometry.getInt("input_size"),
                heatmapWidth = heatmap.getInt(0),
                heatmapHeight = heatmap.getInt(1),
                depthBins = geometry.getInt("depth_bins"),
                depthRangeMm = geometry.getDouble("depth_range_mm"),
                skeleton = Skeleton.fromJson(root.getJSONObject("joints")),
            )
            if (manifest.decodesOnDevice) {
                val channels = manifest.outputs.first().shape.last()
                val expected = manifest.skeleton.names.size * manifest.depthBins
                require(channels == expected) { "heatmap output has $channels channels, not joints x depth bins = $expected" }
            }
            return manifest
        }

        private fun tensor(record: JSONObject): TensorSpec {
            val shape = record.getJSONArray("shape")
            return TensorSpec(record.getString("name"), List(shape.length()) { shape.getInt(it) }, record.getString("dtype"))
        }
    }
}

/**
 * Cuts the model input from a camera frame: for every crop pixel, bilinear sampling of the buffer at the inverse of
 * [bufferToCrop], black outside it (as OpenCV's warpAffine with a constant border), packed NHWC uint8 RGB.
 */
object InputPacker {
    fun pack(frame: PixelBuffer, bufferToCrop: Affine, size: Int): ByteArray {
        val toBuffer = bufferToCrop.inverse()
        val out = ByteArray(size * size * 3)
        for (v in 0 until size) for (u in 0 until size) {
            val p = toBuffer.apply(u.toDouble(), v.toDouble())
            val x0 = Math.floor(p[0]).toInt()
            val y0 = Math.floor(p[1]).toInt()
            val fx = p[0] - x0
            val fy = p[1] - y0
            for (c in 0 until 3) {
                val top = frame.at(x0, y0, c) * (1 - fx) + frame.at(x0 + 1, y0, c) * fx
                val bottom = frame.at(x0, y0 + 1, c) * (1 - fx) + frame.at(x0 + 1, y0 + 1, c) * fx
                out[(v * size + u) * 3 + c] = Math.round(top * (1 - fy) + bottom * fy).toInt().coerceIn(0, 255).toByte()
            }
        }
        return out
    }
}
