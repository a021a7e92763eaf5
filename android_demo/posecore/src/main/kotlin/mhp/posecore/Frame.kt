package mhp.posecore

/** Interleaved 8-bit pixels as a camera hands them over: RGB (pixelStride 3) or RGBA (4), rows possibly padded. */
class PixelBuffer(
    val bytes: ByteArray,
    val width: Int,
    val height: Int,
    val pixelStride: Int = 3,
    val rowStride: Int = width * pixelStride,
) {
    init {
        require(width > 0 && height > 0 && pixelStride >= 3 && rowStride >= width * pixelStride) {
            "pixel buffer ${width}x$height with pixel stride $pixelStride and row stride $rowStride is not RGB(A)"
        }
        require(bytes.size >= (height - 1) * rowStride + width * pixelStride) {
            "pixel buffer holds ${bytes.size} bytes, too few for ${width}x$height at row stride $rowStride"
        }
    }

    /** Channel [c] (0 red, 1 green, 2 blue) of pixel (x, y), 0 outside the buffer. */
    fun at(x: Int, y: Int, c: Int): Int =
        if (x < 0 || y < 0 || x >= width || y >= height) 0 else bytes[y * rowStride + x * pixelStride + c].toInt() and 0xFF
}

/**
 * Camera buffers arrive in sensor orientation; [degrees] is the clockwise turn that makes them upright (CameraX's
 * `rotationDegrees`). Pixel centres map to pixel centres, so cutting a crop through the turn loses nothing.
 */
object Orientation {
    fun uprightSize(width: Int, height: Int, degrees: Int): IntArray =
        if (normalised(degrees) % 180 == 0) intArrayOf(width, height) else intArrayOf(height, width)

    /** Buffer pixels -> upright pixels. */
    fun bufferToUpright(width: Int, height: Int, degrees: Int): Affine {
        val w = width - 1.0
        val h = height - 1.0
        return Affine(
            when (normalised(degrees)) {
                0 -> doubleArrayOf(1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
                90 -> doubleArrayOf(0.0, -1.0, h, 1.0, 0.0, 0.0)
                180 -> doubleArrayOf(-1.0, 0.0, w, 0.0, -1.0, h)
                else -> doubleArrayOf(0.0, 1.0, 0.0, -1.0, 0.0, w)
            },
        )
    }

    private fun normalised(degrees: Int): Int {
        require(degrees % 90 == 0) { "rotation $degrees degrees is not a multiple of 90" }
        return ((degrees % 360) + 360) % 360
    }
}

/**
 * Upright frame pixels -> view pixels when the view shows the frame scaled to fill it and centred (CameraX
 * PreviewView's FILL_CENTER), mirrored for a front camera's preview.
 */
class ViewFit(frameWidth: Int, frameHeight: Int, private val viewWidth: Int, viewHeight: Int, private val mirrored: Boolean) {
    private val scale = maxOf(viewWidth.toDouble() / frameWidth, viewHeight.toDouble() / frameHeight)
    private val dx = (viewWidth - frameWidth * scale) / 2
    private val dy = (viewHeight - frameHeight * scale) / 2

    fun map(x: Double, y: Double): DoubleArray {
        val vx = x * scale + dx
        return doubleArrayOf(if (mirrored) viewWidth - vx else vx, y * scale + dy)
    }
}
