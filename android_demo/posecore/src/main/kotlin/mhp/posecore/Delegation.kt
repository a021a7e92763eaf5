package mhp.posecore

/**
 * How much of a graph one delegate took: [onDelegate] of [total] units ("nodes" for LiteRT, "ops" for Core ML; [total]
 * null when not reported), the graph cut into [partitions] parts (null: not reported). LiteRT counts the parts on the
 * delegate and the runs left between them on the CPU together, so 1 is the whole graph in one delegate kernel.
 */
class Delegation(val onDelegate: Int, val total: Int?, val partitions: Int?, val unit: String) {
    init {
        require(onDelegate >= 0 && (total == null || total >= onDelegate) && (partitions == null || partitions >= 0)) {
            "delegation counts must be non-negative, with at most the total on the delegate"
        }
    }

    /** Every unit on the delegate (the total known), in one partition where partitions are reported. */
    val full: Boolean get() = onDelegate == total && (partitions ?: 1) == 1

    /** One short line for a status bar: "GPU: 61 of 65 nodes on the delegate, 4 on the CPU, 2 partitions". */
    fun describe(name: String): String {
        val counted = when (total) {
            null -> "$onDelegate $unit on the delegate"
            onDelegate -> "all $total $unit on the delegate"
            else -> "$onDelegate of $total $unit on the delegate, ${total - onDelegate} on the CPU"
        }
        val parts = partitions?.takeUnless { full }?.let { if (it == 1) ", 1 partition" else ", $it partitions" } ?: ""
        return "$name: $counted$parts"
    }

    companion object {
        // "Replacing 61 out of 65 node(s) with delegate (TfLiteGpuDelegateV2) node, yielding 2 partitions for the whole
        // graph." (newer LiteRT ends "for subgraph 0."), older TF Lite "Replacing 61 node(s) with delegate (...) node,
        // yielding 2 partitions."; at most nine digits, so every count fits an Int
        private val REPLACING = Regex("""Replacing (\d{1,9})(?: out of (\d{1,9}))? node\(s\) with delegate \(([^)]+)\) node, yielding (\d{1,9}) partitions""")

        /**
         * The last "Replacing ... node(s) with delegate ([kernel]) node, yielding P partitions" line, either format; null
         * when there is none (or its counts are impossible).
         */
        fun fromLiteRtLog(log: String, kernel: String): Delegation? {
            val line = REPLACING.findAll(log).lastOrNull { it.groupValues[3] == kernel } ?: return null
            val (onDelegate, total, _, partitions) = line.destructured
            return try {
                Delegation(onDelegate.toInt(), total.toIntOrNull(), partitions.toInt(), "nodes")
            } catch (e: IllegalArgumentException) {
                null
            }
        }
    }
}
