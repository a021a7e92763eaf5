package mhp.demo

import android.content.res.AssetManager
import mhp.posecore.ModelManifest
import mhp.posecore.sha256Hex
import java.io.FileInputStream
import java.io.FileNotFoundException
import java.io.IOException
import java.nio.MappedByteBuffer
import java.nio.channels.FileChannel

/** Anything wrong with a model the user can fix (missing asset, mismatched manifest, unsupported delegate): shown, never a crash. */
class ModelProblem(message: String) : Exception(message)

/** A bundled `.tflite`, memory-mapped from the APK, with the manifest mhp-export wrote next to it and the file's sha256. */
class BundledModel(val file: String, val manifest: ModelManifest, val sizeBytes: Long, val buffer: MappedByteBuffer, val sha256: String)

/** The models in the app's assets, named as mhp-export names them: `lpski_int8.tflite` + `lpski_int8.tflite.json`. */
object ModelAssets {
    /** mhp.export.manifest.manifest_path: the artifact's file name plus ".json". */
    const val MANIFEST_SUFFIX = ".json"
    const val MODEL_SUFFIX = ".tflite"

    /** MediaPipe's person detector (make detector; copyMhpModels bundles it): no manifest, not a pose model. */
    const val DETECTOR = "pose_detection.tflite"

    fun names(assets: AssetManager): List<String> = assets.list("").orEmpty().filter { it.endsWith(MODEL_SUFFIX) && it != DETECTOR }.sorted()

    /** The bundled detector, memory-mapped; a missing one is a [ModelProblem] naming the fix. */
    fun detector(assets: AssetManager): MappedByteBuffer = try {
        map(assets, DETECTOR)
    } catch (e: FileNotFoundException) {
        throw ModelProblem("No person detector ($DETECTOR) in the app: run make detector, then ./gradlew installDebug (copyMhpModels bundles it). Following one person from a centred box.")
    }

    fun load(assets: AssetManager, file: String): BundledModel {
        val manifestFile = file + MANIFEST_SUFFIX
        val text = try {
            assets.open(manifestFile).bufferedReader().use { it.readText() }
        } catch (e: IOException) {
            throw ModelProblem("$file has no manifest $manifestFile in the app; copy both with ./gradlew copyMhpModels")
        }
        val manifest = try {
            ModelManifest.parse(text)
        } catch (e: IllegalArgumentException) {
            throw ModelProblem("$manifestFile: ${e.message}")
        }
        if (manifest.format != "tflite") throw ModelProblem("$manifestFile describes a ${manifest.format} model; the app runs .tflite")
        val buffer = try {
            map(assets, file)
        } catch (e: FileNotFoundException) {
            throw ModelProblem("$file is missing or stored compressed; keep noCompress \"tflite\" and copy it with ./gradlew copyMhpModels")
        }
        // the model file's sha256, for posecore's ModelManifest.checkArtifact (LiteRtRunner calls it with the input quantisation)
        val sha256 = assets.open(file).use { sha256Hex(it) }
        return BundledModel(file, manifest, buffer.capacity().toLong(), buffer, sha256)
    }

    /** An uncompressed asset memory-mapped from the APK; FileNotFoundException when it is missing or compressed. */
    private fun map(assets: AssetManager, file: String): MappedByteBuffer = assets.openFd(file).use { fd ->
        FileInputStream(fd.fileDescriptor).channel.use { it.map(FileChannel.MapMode.READ_ONLY, fd.startOffset, fd.declaredLength) }
    }
}
