import Foundation

/// Pinhole intrinsics of the upright frame in pixels, and where they came from (as mhp.infer.camera).
public struct Intrinsics {
    /// A typical phone main camera (26 mm equivalent is about 69 degrees), across the frame's LONGER side: a phone
    /// camera's field of view spans its sensor's long side whichever way the phone is held (the name is historical).
    public static let defaultHorizontalFovDeg = 65.0

    public let focal: [Double]
    public let principal: [Double]
    public let source: String

    public init(focal: [Double], principal: [Double], source: String) {
        self.focal = focal
        self.principal = principal
        self.source = source
    }

    /// The fallback when the lens is unknown, identical to mhp.infer.camera.default_intrinsics and posecore's:
    /// `fovDegrees` across max(width, height), fx = fy = (long side / 2) / tan(fov / 2), principal point at the centre.
    /// A portrait and a landscape frame of one camera get the same focal length.
    public static func fromFov(width: Int, height: Int, fovDegrees: Double = Intrinsics.defaultHorizontalFovDeg) throws -> Intrinsics {
        try require(fovDegrees >= 1.0 && fovDegrees < 180.0, "field of view \(fovDegrees) degrees is not in [1, 180)")
        let focal = Double(max(width, height)) / 2.0 / tan(fovDegrees / 180.0 * Double.pi / 2)
        return Intrinsics(
            focal: [focal, focal],
            principal: [Double(width) / 2.0, Double(height) / 2.0],
            source: "default: \(fovDegrees) degrees field of view across the longer side"
        )
    }

    /// From the lens focal length and the sensor's physical size, assuming the frame's long side spans the sensor's
    /// long side.
    public static func fromLens(width: Int, height: Int, focalMm: Double, sensorLongSideMm: Double) throws -> Intrinsics {
        try require(
            focalMm > 0 && sensorLongSideMm > 0,
            "focal length \(focalMm) mm and sensor size \(sensorLongSideMm) mm must be positive"
        )
        let focal = focalMm / sensorLongSideMm * Double(max(width, height))
        return Intrinsics(
            focal: [focal, focal],
            principal: [Double(width) / 2.0, Double(height) / 2.0],
            source: "lens: \(focalMm) mm on a \(sensorLongSideMm) mm sensor"
        )
    }
}
