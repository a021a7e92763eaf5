package mhp.posecore

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** The run-time checks an app makes on a bundled model and its manifest (ModelManifest.checkArtifact). */
class ManifestTest {
    private val sha = "9019cb43e0683620694c8fc59b0dd5f80c6ee6645e1c38da9c52d97dc67ce6fe"
    private val exported = BenchReportTest.MANIFEST.replace(
        "\"dtype\": \"uint8\"}",
        "\"dtype\": \"uint8\", \"normalization\": {\"name\": \"legacy\", \"inside_graph\": true}}",
    ).replace("\"version\": 1,", "\"version\": 1, \"artifact_sha256\": \"$sha\",")

    private fun refusal(manifest: ModelManifest, digest: String?, scale: Double = 1.0, zeroPoint: Int = 0): String {
        val message = assertThrows(IllegalArgumentException::class.java) { manifest.checkArtifact(digest, scale, zeroPoint) }.message!!
        assertFalse(message.contains('\n'), message)
        return message
    }

    @Test
    fun theManifestRecordsWhatTheRunTimeChecksNeed() {
        val manifest = ModelManifest.parse(exported)
        assertEquals(1, manifest.version)
        assertEquals(sha, manifest.artifactSha256)
        assertTrue(manifest.normalizationInsideGraph)
        val bare = ModelManifest.parse(BenchReportTest.MANIFEST.replace("\"version\": 1, ", ""))
        assertEquals(-1, bare.version)
        assertNull(bare.artifactSha256)
        assertFalse(bare.normalizationInsideGraph) // not said: the app cannot know the model normalises
    }

    @Test
    fun anExportedModelPassesTheRunTimeChecks() {
        val manifest = ModelManifest.parse(exported)
        manifest.checkArtifact(sha, 1.0, 0) // a full-INT8 export's uint8 input: scale 1, zero point 0
        manifest.checkArtifact(sha.uppercase(), 0.0, 0) // an fp32 export's uint8 input is not quantised (LiteRT: scale 0)
        manifest.checkArtifact(null, 1.0, 0) // no bytes to hash (a compiled CoreML model): the other checks still run
    }

    @Test
    fun theRunTimeChecksRefuseAForeignArtifactInOneLine() {
        val manifest = ModelManifest.parse(exported)
        val other = "0" + sha.drop(1)
        assertEquals(
            "the model file is not the one its manifest was written for (sha256 0019cb43e068..., the manifest says 9019cb43e068...); copy the model and its manifest from one mhp-export run",
            refusal(manifest, other),
        )
        val future = ModelManifest.parse(exported.replace("\"version\": 1,", "\"version\": 2,"))
        assertTrue(refusal(future, sha).startsWith("the model manifest has version 2, this app reads version 1"))
        assertTrue(refusal(manifest, sha, 1.0 / 255, 0).startsWith("the model's uint8 input is quantised with scale"))
        assertTrue(refusal(manifest, sha, 1.0, 128).contains("zero point 128"))
        val outside = ModelManifest.parse(exported.replace("\"inside_graph\": true", "\"inside_graph\": false"))
        assertTrue(refusal(outside, sha).startsWith("the model expects normalised pixels"))
        val float = ModelManifest.parse(exported.replace("\"uint8\"", "\"float32\""))
        float.checkArtifact(sha, 0.5, 3) // the quantisation rule is for uint8 inputs only
    }

    @Test
    fun digestsCompareAsLowerCaseHex() {
        // FIPS 180-2 test vectors; mhp.runtime.manifest.artifact_sha256 writes the same lower-case hex
        val abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        val manifest = ModelManifest.parse(exported.replace(sha, abc))
        manifest.checkArtifact(sha256Hex("abc".toByteArray()), 1.0, 0)
        manifest.checkArtifact(" ${abc.uppercase()}\n", 1.0, 0) // hex as another tool prints it
        refusal(manifest, sha256Hex("abd".toByteArray()))
        assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", sha256Hex(ByteArray(0)))
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", sha256Hex("abc".toByteArray()))
        val long = ByteArray(200_000) { (it % 251).toByte() }
        assertEquals(sha256Hex(long), sha256Hex(long.inputStream()))
    }
}
