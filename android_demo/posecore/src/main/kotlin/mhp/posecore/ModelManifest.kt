package mhp.posecore

import org.json.JSONException
import org.json.JSONObject
import java.io.InputStream
import java.security.MessageDigest

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
    /** The manifest's `version` (-1 when it has none); [checkArtifact] refuses one other than [SUPPORTED_VERSION]. */
    val version: Int = SUPPORTED_VERSION,
    /** The sha256 (lower-case hex) of the artifact the manifest was written for; null when the export recorded none. */
    val artifactSha256: String? = null,
    /** `input.normalization.inside_graph`: the artifact normalises 0-255 pixels itself (the app feeds raw RGB). */
    val normalizationInsideGraph: Boolean = true,
) {
    /** The heatmap artifacts (full INT8) need the soft-argmax in the app; the others output coordinates. */
    val decodesOnDevice: Boolean get() = decode == "host_soft_argmax"

    /**
     * The run-time checks an app makes before it feeds the model, each refused with a one-line
     * IllegalArgumentException: an [artifactSha256] of the model file (lower-case hex, [sha256Hex] of its bytes) other
     * than the manifest's (a model copied over by hand, an interrupted export; skipped when either is null: a
     * CoreML model Xcode compiled has no exported bytes on the device, and mhp's own read_manifest skips a manifest
     * without one), a manifest version this core does not read, a uint8 input quantised other than scale 1 / zero
     * point 0 (the app writes raw 0-255 pixels; the interpreter's scale 0 / zero point 0 means "not quantised", as
     * LiteRT reports for the fp32 export's uint8 input, and is accepted), and normalisation outside the graph (the
     * app does not normalise). [inputScale] and [inputZeroPoint] are the interpreter's input tensor quantisation.
     */
    fun checkArtifact(artifactSha256: String?, inputScale: Double, inputZeroPoint: Int) {
        require(version == SUPPORTED_VERSION) {
            "the model manifest has version $version, this app reads version $SUPPORTED_VERSION; export the model with the mhp this app was built with"
        }
        val expected = this.artifactSha256
        if (expected != null && artifactSha256 != null) {
            require(artifactSha256.trim().lowercase() == expected.trim().lowercase()) {
                "the model file is not the one its manifest was written for (sha256 ${artifactSha256.take(12)}..., the manifest says ${expected.take(12)}...); copy the model and its manifest from one mhp-export run"
            }
        }
        if (input.dtype == "uint8") {
            val raw = (inputScale == 1.0 || inputScale == 0.0) && inputZeroPoint == 0
            require(raw) {
                "the model's uint8 input is quantised with scale $inputScale and zero point $inputZeroPoint; the app feeds raw 0-255 pixels (scale 1, zero point 0): re-export with mhp-export"
            }
        }
        require(normalizationInsideGraph) {
            "the model expects normalised pixels (input.normalization.inside_graph is false); the app feeds raw 0-255 RGB: export the model with mhp-export"
        }
    }

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
        /** The export-manifest version this core reads (mhp.runtime.manifest.VERSION). */
        const val SUPPORTED_VERSION = 1

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
                version = root.optInt("version", -1),
                artifactSha256 = if (root.isNull("artifact_sha256")) null else root.getString("artifact_sha256"),
                normalizationInsideGraph = input.optJSONObject("normalization")?.optBoolean("inside_graph", false) ?: false,
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

/** The sha256 of [bytes] in lower-case hex (as mhp.runtime.manifest.artifact_sha256 and the manifest's artifact_sha256). */
fun sha256Hex(bytes: ByteArray): String = hex(MessageDigest.getInstance("SHA-256").digest(bytes))

/** The sha256 of a stream read to its end (an asset), in lower-case hex, without holding it in memory. */
fun sha256Hex(stream: InputStream): String {
    val digest = MessageDigest.getInstance("SHA-256")
    val buffer = ByteArray(1 shl 16)
    while (true) {
        val read = stream.read(buffer)
        if (read < 0) break
        digest.update(buffer, 0, read)
    }
    return hex(digest.digest())
}

private fun hex(digest: ByteArray): String = digest.joinToString("") { "%02x".format(it.toInt() and 0xFF) }

/**
 * Cuts the model input from a camera frame: for every crop pixel, bilinear sampling of the buffer at the inverse of
 * [bufferToCrop], black outside it (as OpenCV's warpAffine with a constant border), packed NHWC uint8 RGB. A crop
 * pixel whose source is not a finite point near the buffer (a degenerate map: NaN, infinite, singular) stays black.
 */
object InputPacker {
    fun pack(frame: PixelBuffer, bufferToCrop: Affine, size: Int): ByteArray {
        val toBuffer = bufferToCrop.inverse()
        val out = ByteArray(size * size * 3)
        for (v in 0 until size) for (u in 0 until size) {
            val p = toBuffer.apply(u.toDouble(), v.toDouble())
            // every neighbour outside the buffer (or NaN) samples black: no integer conversion of a wild value
            if (!(p[0] > -1.0 && p[0] < frame.width && p[1] > -1.0 && p[1] < frame.height)) continue
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
