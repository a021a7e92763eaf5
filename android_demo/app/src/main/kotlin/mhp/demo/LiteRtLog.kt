package mhp.demo

import java.util.concurrent.TimeUnit

/**
 * This process's LiteRT messages (tag "tflite", where LiteRT logs even its VERBOSE lines at INFO) since [sinceMs]
 * (System.currentTimeMillis()), one a line: "Replacing 61 out of 65 node(s) with delegate (TfLiteGpuDelegateV2) node, ..."
 * for each delegate (posecore's Delegation.fromLiteRtLog). An app reads its own entries without a permission; logcat's
 * `--pid` needs API 24, `-t 'sssss.mmm'` (epoch seconds) dumps from then and exits, `-v raw` prints the message alone,
 * `-s tflite:I` silences other tags. Empty, never an exception, when logcat is missing, fails or takes over 2 s.
 */
fun liteRtLogSince(sinceMs: Long): String = try {
    val since = "${sinceMs / 1000}.${(sinceMs % 1000).toString().padStart(3, '0')}"
    val logcat = ProcessBuilder("logcat", "--pid=${android.os.Process.myPid()}", "-t", since, "-v", "raw", "-s", "tflite:I")
        .redirectErrorStream(true).start()
    if (logcat.waitFor(2, TimeUnit.SECONDS)) {
        logcat.inputStream.bufferedReader().use { it.readText() }
    } else {
        logcat.destroy()
        ""
    }
} catch (e: Exception) { // IOException (no logcat), SecurityException, InterruptedException
    ""
}
