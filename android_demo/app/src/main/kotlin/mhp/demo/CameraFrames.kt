package mhp.demo

import android.graphics.Rect
import android.hardware.camera2.CameraCharacteristics
import androidx.annotation.OptIn
import androidx.camera.camera2.interop.Camera2CameraInfo
import androidx.camera.camera2.interop.ExperimentalCamera2Interop
import androidx.camera.core.CameraInfo
import androidx.camera.core.ImageProxy
import mhp.posecore.Intrinsics
import mhp.posecore.Orientation
import mhp.posecore.PixelBuffer

/**
 * Copies the crop rect of CameraX RGBA_8888 frames into one reused [PixelBuffer]. Bound in a UseCaseGroup with the
 * PreviewView's ViewPort, ImageProxy.getCropRect is the part of the frame the preview shows (ViewPort: "all the use
 * cases will produce the same image"), so the pipeline sees what the user sees and the overlay maps it with ViewFit.
 */
class FrameCopier {
    private var bytes = ByteArray(0)

    fun copy(image: ImageProxy): PixelBuffer {
        val plane = image.planes[0]
        val crop = image.cropRect
        val row = crop.width() * plane.pixelStride
        if (bytes.size != row * crop.height()) bytes = ByteArray(row * crop.height())
        val buffer = plane.buffer
        for (y in 0 until crop.height()) {
            buffer.position((crop.top + y) * plane.rowStride + crop.left * plane.pixelStride)
            buffer.get(bytes, y * row, row)
        }
        return PixelBuffer(bytes, crop.width(), crop.height(), plane.pixelStride, row)
    }
}

/**
 * A camera's pinhole intrinsics from Camera2, mapped to each analysis frame: LENS_INTRINSIC_CALIBRATION ([fx, fy, cx, cy,
 * s] in SENSOR_INFO_PRE_CORRECTION_ACTIVE_ARRAY_SIZE pixels) when the camera reports it, else the focal length
 * (LENS_INFO_AVAILABLE_FOCAL_LENGTHS) over SENSOR_INFO_PHYSICAL_SIZE, which spans SENSOR_INFO_PIXEL_ARRAY_SIZE, with the
 * principal point at the active array's centre; else posecore's fallback (Intrinsics.fromFov: 65 degrees across the
 * frame's longer side), and [source] says so.
 */
@OptIn(ExperimentalCamera2Interop::class)
class CameraLens(info: CameraInfo) {
    /** fx, fy, cx, cy in active-array pixels, or null when Camera2 gives neither calibration nor lens and sensor sizes. */
    private val active: DoubleArray?
    private val activeSize: Rect?
    val source: String

    init {
        val camera = Camera2CameraInfo.from(info)
        val array = camera.getCameraCharacteristic(CameraCharacteristics.SENSOR_INFO_ACTIVE_ARRAY_SIZE)
        val pre = camera.getCameraCharacteristic(CameraCharacteristics.SENSOR_INFO_PRE_CORRECTION_ACTIVE_ARRAY_SIZE) ?: array
        val calibration = camera.getCameraCharacteristic(CameraCharacteristics.LENS_INTRINSIC_CALIBRATION)
        val focal = camera.getCameraCharacteristic(CameraCharacteristics.LENS_INFO_AVAILABLE_FOCAL_LENGTHS)?.firstOrNull()
        val sensor = camera.getCameraCharacteristic(CameraCharacteristics.SENSOR_INFO_PHYSICAL_SIZE)
        val pixels = camera.getCameraCharacteristic(CameraCharacteristics.SENSOR_INFO_PIXEL_ARRAY_SIZE)
        activeSize = array
        val known = when {
            array == null || array.isEmpty -> null
            // all zeros (uncalibrated) counts as absent; the skew s (index 4) is ignored
            calibration != null && calibration.size >= 4 && calibration[0] > 0 && calibration[1] > 0 && pre != null -> doubleArrayOf(
                calibration[0].toDouble(), calibration[1].toDouble(),
                calibration[2].toDouble() + pre.left - array.left, calibration[3].toDouble() + pre.top - array.top,
            ) to "intrinsics: lens calibration"
            focal != null && focal > 0 && sensor != null && sensor.width > 0 && sensor.height > 0 && pixels != null -> doubleArrayOf(
                focal.toDouble() / sensor.width * pixels.width, focal.toDouble() / sensor.height * pixels.height,
                array.width() / 2.0, array.height() / 2.0,
            ) to "intrinsics: $focal mm lens"
            else -> null
        }
        active = known?.first
        source = known?.second ?: "intrinsics: fallback 65°"
    }

    /**
     * Intrinsics of the upright [crop] of a [width] x [height] buffer turned by [rotation] degrees. The stream is the
     * active array's centred crop at the buffer's aspect ratio, scaled (the default SCALER_CROP_REGION).
     */
    fun intrinsics(width: Int, height: Int, crop: Rect, rotation: Int): Intrinsics {
        val lens = active
        val array = activeSize
        val full = if (lens == null || array == null) {
            Intrinsics.fromFov(width, height) // the longer-side field of view: the same in buffer and upright frames
        } else {
            val scale = maxOf(width.toDouble() / array.width(), height.toDouble() / array.height())
            val left = (array.width() - width / scale) / 2
            val top = (array.height() - height / scale) / 2
            Intrinsics(doubleArrayOf(lens[0] * scale, lens[1] * scale), doubleArrayOf((lens[2] - left) * scale, (lens[3] - top) * scale), source)
        }
        val upright = Orientation.bufferToUpright(crop.width(), crop.height(), rotation)
        val principal = upright.apply(full.principal[0] - crop.left, full.principal[1] - crop.top)
        val focal = if (rotation % 180 == 0) full.focal else doubleArrayOf(full.focal[1], full.focal[0])
        return Intrinsics(focal, principal, source)
    }
}
