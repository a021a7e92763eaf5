package mhp.posecore

import org.json.JSONArray
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import java.io.File
import java.nio.ByteBuffer
import java.nio.ByteOrder

// What the golden tests share (Swift: TestSupport.swift): reading the files Python wrote, comparing within a tolerance.

/** A little-endian float32 file, as mhp.export.golden writes them. */
internal fun littleEndianFloats(file: File): FloatArray {
    val bytes = file.readBytes()
    return FloatArray(bytes.size / 4).also { ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(it) }
}

internal fun doubles(array: JSONArray) = DoubleArray(array.length()) { array.getDouble(it) }

internal fun assertClose(expected: JSONArray, actual: Array<DoubleArray>, tol: Double, what: String) {
    assertEquals(expected.length(), actual.size, what)
    for (i in actual.indices) assertClose(expected.getJSONArray(i), actual[i], tol, "$what[$i]")
}

internal fun assertClose(expected: JSONArray, actual: DoubleArray, tol: Double, what: String) {
    assertEquals(expected.length(), actual.size, what)
    for (i in actual.indices) {
        val e = expected.getDouble(i)
        assertTrue(Math.abs(e - actual[i]) <= tol, "$what[$i]: expected $e, got ${actual[i]} (tolerance $tol)")
    }
}
