package mhp.demo

import android.hardware.camera2.CameraCharacteristics
import androidx.annotation.OptIn
import androidx.camera.camera2.interop.Camera2CameraInfo
import androidx.camera.camera2.interop.ExperimentalCamera2Interop
import androidx.camera.core.CameraInfo
import androidx.camera.core.ImageProxy
import mhp.posecore.Intrinsics
import mhp.posecore.PixelBuffer

/** Copies CameraX RGBA_8888 frames into one reused [PixelBuffer] (rows keep their padding). */
class FrameCopier {
    private var bytes = ByteArray(0)

    fun copy(image: ImageProxy): PixelBuffer {
        val plane = image.planes[0]
        val buffer = plane.buffer
        buffer.rewind()
        if (bytes.size != buffer.remaining()) bytes = ByteArray(buffer.remaining())
        buffer.get(bytes)
        return PixelBuffer(bytes, image.width, image.height, plane.pixelStride, plane.rowStride)
    }
}

/** The camera's intrinsics from its lens and sensor when Camera2 reports them, else posecore's default field of view. */
@OptIn(ExperimentalCamera2Interop::class)
fun cameraIntrinsics(info: CameraInfo): (Int, Int) -> Intrinsics {
    val camera2 = Camera2CameraInfo.from(info)
    val focal = camera2.getCameraCharacteristic(CameraCharacteristics.LENS_INFO_AVAILABLE_FOCAL_LENGTHS)?.firstOrNull()
    val sensor = camera2.getCameraCharacteristic(CameraCharacteristics.SENSOR_INFO_PHYSICAL_SIZE)
    if (focal == null || sensor == null) return { width, height -> Intrinsics.fromFov(width, height) }
    val longSide = maxOf(sensor.width, sensor.height).toDouble()
    return { width, height -> Intrinsics.fromLens(width, height, focal.toDouble(), longSide) }
}
