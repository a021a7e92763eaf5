import PoseCore
import simd

/// The intrinsics of the upright frame, per frame: the camera's own matrix when AVFoundation attaches one to the
/// buffer (turned with the buffer into the upright frame), else PoseCore's one project-wide fallback (a 65 degree
/// horizontal field of view across the frame's longer side, principal point at the centre), said on screen.
enum CameraIntrinsics {
    /// The note the stats show while the fallback is in use.
    static var fallbackNote: String {
        "intrinsics: fallback \(Int(Intrinsics.defaultHorizontalFovDeg))°"
    }

    static let cameraNote = "intrinsics: camera"

    /// `matrix` is in the buffer's pixels (bufferWidth x bufferHeight, origin at the top-left corner of the top-left
    /// pixel, as kCMSampleBufferAttachmentKey_CameraIntrinsicMatrix documents); the upright frame is the buffer turned
    /// clockwise by `rotationDegrees`. Nil for a matrix that is not a usable pinhole (non-finite or non-positive focal
    /// lengths), so the caller falls back instead of dividing by it.
    static func upright(
        _ matrix: simd_float3x3, bufferWidth: Int, bufferHeight: Int, rotationDegrees: Int
    ) -> Intrinsics? {
        // column-major: columns.0 = (fx, 0, 0), columns.1 = (s, fy, 0), columns.2 = (ox, oy, 1)
        let fx = Double(matrix.columns.0.x)
        let fy = Double(matrix.columns.1.y)
        let ox = Double(matrix.columns.2.x)
        let oy = Double(matrix.columns.2.y)
        let w = Double(bufferWidth)
        let h = Double(bufferHeight)
        // a principal point outside the buffer means the matrix is for other dimensions: use the fallback instead
        guard [fx, fy, ox, oy].allSatisfy({ $0.isFinite }), fx > 0, fy > 0, ox > 0, ox < w, oy > 0, oy < h else {
            return nil
        }
        let focal: [Double]
        let principal: [Double]
        // continuous coordinates (pixel edges at integers), the convention of the fallback's centre (width / 2)
        switch ((rotationDegrees % 360) + 360) % 360 {
        case 90:
            (focal, principal) = ([fy, fx], [h - oy, ox])
        case 180:
            (focal, principal) = ([fx, fy], [w - ox, h - oy])
        case 270:
            (focal, principal) = ([fy, fx], [oy, w - ox])
        default:
            (focal, principal) = ([fx, fy], [ox, oy])
        }
        return Intrinsics(focal: focal, principal: principal, source: "camera intrinsic matrix (AVFoundation)")
    }

    /// PoseCore's fallback for an upright frame of width x height. `Intrinsics.fromFov` throws only for a field of
    /// view outside [1, 180) degrees, which the default is not; should it ever throw, the frame still gets intrinsics
    /// (focal = the longer side) rather than a crash, and the note says fallback.
    static func fallback(width: Int, height: Int) -> Intrinsics {
        if let intrinsics = try? Intrinsics.fromFov(width: width, height: height) {
            return intrinsics
        }
        let side = Double(max(width, height))
        return Intrinsics(
            focal: [side, side], principal: [Double(width) / 2, Double(height) / 2], source: "fallback: focal = longer side"
        )
    }
}
