package mhp.posecore

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

class DelegationTest {
    @Test
    fun readsTheCurrentLogFormat() {
        val gpu = Delegation.fromLiteRtLog(
            "Created TensorFlow Lite delegate for GPU.\n" +
                "Replacing 61 out of 65 node(s) with delegate (TfLiteGpuDelegateV2) node, yielding 2 partitions for the whole graph.\n",
            GPU,
        )!!
        assertEquals(listOf(61, 65, 2), listOf(gpu.onDelegate, gpu.total, gpu.partitions))
        assertEquals("nodes", gpu.unit)
        assertFalse(gpu.full)
        val subgraph = Delegation.fromLiteRtLog("Replacing 44 out of 44 node(s) with delegate (TfLiteXNNPackDelegate) node, yielding 1 partitions for subgraph 0.", XNNPACK)!!
        assertTrue(subgraph.full)
    }

    @Test
    fun readsTheOlderLogFormat() {
        val nnapi = Delegation.fromLiteRtLog("Replacing 12 node(s) with delegate (TfLiteNnapiDelegate) node, yielding 3 partitions.", "TfLiteNnapiDelegate")!!
        assertEquals(12, nnapi.onDelegate)
        assertNull(nnapi.total)
        assertEquals(3, nnapi.partitions)
        assertFalse(nnapi.full)
    }

    @Test
    fun theLastLineForTheKernelWins() {
        val log = listOf(
            "Replacing 10 out of 65 node(s) with delegate (TfLiteGpuDelegateV2) node, yielding 5 partitions for the whole graph.",
            "Replacing 65 out of 65 node(s) with delegate (TfLiteGpuDelegateV2) node, yielding 1 partitions for the whole graph.",
        ).joinToString("\n")
        val gpu = Delegation.fromLiteRtLog(log, GPU)!!
        assertEquals(65, gpu.onDelegate)
        assertTrue(gpu.full)
    }

    @Test
    fun anotherKernelsLineIsIgnored() {
        val log = "Replacing 30 out of 65 node(s) with delegate (TfLiteGpuDelegateV2) node, yielding 4 partitions for the whole graph.\n" +
            "Replacing 65 out of 65 node(s) with delegate (TfLiteXNNPackDelegate) node, yielding 1 partitions for the whole graph.\n"
        assertEquals(30, Delegation.fromLiteRtLog(log, GPU)!!.onDelegate)
        assertNull(Delegation.fromLiteRtLog(log, "TfLiteNnapiDelegate"))
        assertNull(Delegation.fromLiteRtLog(log, "TfLiteGpuDelegate")) // a kernel name is matched whole
    }

    @Test
    fun noLineIsNull() {
        assertNull(Delegation.fromLiteRtLog("", GPU))
        assertNull(Delegation.fromLiteRtLog("Created TensorFlow Lite XNNPACK delegate for CPU.\nInitialized TensorFlow Lite runtime.", XNNPACK))
        // counts LiteRT never writes: more on the delegate than in the graph, or beyond an Int
        assertNull(Delegation.fromLiteRtLog("Replacing 70 out of 65 node(s) with delegate (TfLiteGpuDelegateV2) node, yielding 2 partitions.", GPU))
        assertNull(Delegation.fromLiteRtLog("Replacing 9999999999 node(s) with delegate (TfLiteGpuDelegateV2) node, yielding 2 partitions.", GPU))
    }

    @Test
    fun describesPartialFullAndUnknownTotal() {
        assertEquals("GPU: 61 of 65 nodes on the delegate, 4 on the CPU, 2 partitions", Delegation(61, 65, 2, "nodes").describe("GPU"))
        assertEquals("GPU: all 65 nodes on the delegate", Delegation(65, 65, 1, "nodes").describe("GPU"))
        assertEquals("NNAPI: 61 nodes on the delegate, 2 partitions", Delegation(61, null, 2, "nodes").describe("NNAPI"))
        assertEquals("GPU: all 65 nodes on the delegate, 3 partitions", Delegation(65, 65, 3, "nodes").describe("GPU"))
        assertEquals("ANE: all 120 ops on the delegate", Delegation(120, 120, null, "ops").describe("ANE"))
        assertEquals("ANE: 100 of 120 ops on the delegate, 20 on the CPU", Delegation(100, 120, null, "ops").describe("ANE"))
    }

    @Test
    fun invalidCountsAreRejected() {
        assertThrows(IllegalArgumentException::class.java) { Delegation(-1, 65, 2, "nodes") }
        assertThrows(IllegalArgumentException::class.java) { Delegation(66, 65, 2, "nodes") }
        assertThrows(IllegalArgumentException::class.java) { Delegation(61, -1, 2, "nodes") }
        assertThrows(IllegalArgumentException::class.java) { Delegation(61, 65, -1, "nodes") }
        assertEquals(0, Delegation(0, 0, 0, "nodes").onDelegate)
    }

    private companion object {
        const val GPU = "TfLiteGpuDelegateV2"
        const val XNNPACK = "TfLiteXNNPackDelegate"
    }
}
