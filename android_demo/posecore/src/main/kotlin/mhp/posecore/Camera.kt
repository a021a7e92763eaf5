package mhp.posecore

import kotlin.math.tan

/** Pinhole intrinsics of the upright frame in pixels, and where they came from (as mhp.infer.camera). */
class Intrinsics(val focal: DoubleArray, val principal: DoubleArray, val source: String) {
    companion object {
        /**
         * A typical phone main camera (26 mm equivalent is about 69 degrees), across the frame's LONGER side: a phone
         * camera's field of view spans its sensor's long side whichever way the phone is held (the name is historical).
         */
        const val DEFAULT_HORIZONTAL_FOV_DEG = 65.0

        /**
         * The fallback when the lens is unknown, identical to mhp.infer.camera.default_intrinsics and PoseCore's:
         * [fovDegrees] across max(width, height), fx = fy = (long side / 2) / tan(fov / 2), principal point at the
         * centre. A portrait and a landscape frame of one camera get the same focal length.
         */
        fun fromFov(width: Int, height: Int, fovDegrees: Double = DEFAULT_HORIZONTAL_FOV_DEG): Intrinsics {
            require(fovDegrees >= 1.0 && fovDegrees < 180.0) { "field of view $fovDegrees degrees is not in [1, 180)" }
            val focal = maxOf(width, height) / 2.0 / tan(Math.toRadians(fovDegrees) / 2)
            return Intrinsics(doubleArrayOf(focal, focal), doubleArrayOf(width / 2.0, height / 2.0), "default: $fovDegrees degrees field of view across the longer side")
        }

        /**
         * From the lens focal length and the sensor's physical size (Camera2's LENS_INFO_AVAILABLE_FOCAL_LENGTHS and
         * SENSOR_INFO_PHYSICAL_SIZE), assuming the frame's long side spans the sensor's long side.
         */
        fun fromLens(width: Int, height: Int, focalMm: Double, sensorLongSideMm: Double): Intrinsics {
            require(focalMm > 0 && sensorLongSideMm > 0) { "focal length $focalMm mm and sensor size $sensorLongSideMm mm must be positive" }
            val focal = focalMm / sensorLongSideMm * maxOf(width, height)
            return Intrinsics(doubleArrayOf(focal, focal), doubleArrayOf(width / 2.0, height / 2.0), "lens: $focalMm mm on a $sensorLongSideMm mm sensor")
        }
    }
}
