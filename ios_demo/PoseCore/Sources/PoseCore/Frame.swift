import Foundation

/// Interleaved 8-bit pixels as a camera hands them over: RGB (pixelStride 3) or RGBA (4), rows possibly padded.
public struct PixelBuffer {
    public let bytes: [UInt8]
    public let width: Int
    public let height: Int
    public let pixelStride: Int
    public let rowStride: Int

    /// `rowStride` nil: rows are `width * pixelStride` bytes, unpadded.
    public init(bytes: [UInt8], width: Int, height: Int, pixelStride: Int = 3, rowStride: Int? = nil) throws {
        let rowStride = rowStride ?? width * pixelStride
        try require(
            width > 0 && height > 0 && pixelStride >= 3 && rowStride >= width * pixelStride,
            "pixel buffer \(width)x\(height) with pixel stride \(pixelStride) and row stride \(rowStride) is not RGB(A)"
        )
        try require(
            bytes.count >= (height - 1) * rowStride + width * pixelStride,
            "pixel buffer holds \(bytes.count) bytes, too few for \(width)x\(height) at row stride \(rowStride)"
        )
        self.bytes = bytes
        self.width = width
        self.height = height
        self.pixelStride = pixelStride
        self.rowStride = rowStride
    }

    /// Channel `c` (0 red, 1 green, 2 blue) of pixel (x, y), 0 outside the buffer.
    public func at(_ x: Int, _ y: Int, _ c: Int) -> Int {
        if x < 0 || y < 0 || x >= width || y >= height {
            return 0
        }
        return Int(bytes[y * rowStride + x * pixelStride + c])
    }
}

/// Camera buffers arrive in sensor orientation; `degrees` is the clockwise turn that makes them upright. Pixel
/// centres map to pixel centres, so cutting a crop through the turn loses nothing.
public enum Orientation {
    public static func uprightSize(width: Int, height: Int, degrees: Int) throws -> [Int] {
        try normalised(degrees) % 180 == 0 ? [width, height] : [height, width]
    }

    /// Buffer pixels -> upright pixels.
    public static func bufferToUpright(width: Int, height: Int, degrees: Int) throws -> Affine {
        let w = Double(width) - 1.0
        let h = Double(height) - 1.0
        switch try normalised(degrees) {
        case 0:
            return Affine([1.0, 0.0, 0.0, 0.0, 1.0, 0.0])
        case 90:
            return Affine([0.0, -1.0, h, 1.0, 0.0, 0.0])
        case 180:
            return Affine([-1.0, 0.0, w, 0.0, -1.0, h])
        default:
            return Affine([0.0, 1.0, 0.0, -1.0, 0.0, w])
        }
    }

    private static func normalised(_ degrees: Int) throws -> Int {
        try require(degrees % 90 == 0, "rotation \(degrees) degrees is not a multiple of 90")
        return ((degrees % 360) + 360) % 360
    }
}

/// Upright frame pixels -> view pixels when the view shows the frame scaled to fill it and centred
/// (AVCaptureVideoPreviewLayer's resizeAspectFill), mirrored for a front camera's preview.
public struct ViewFit {
    private let viewWidth: Int
    private let mirrored: Bool
    private let scale: Double
    private let dx: Double
    private let dy: Double

    public init(frameWidth: Int, frameHeight: Int, viewWidth: Int, viewHeight: Int, mirrored: Bool) {
        self.viewWidth = viewWidth
        self.mirrored = mirrored
        scale = max(Double(viewWidth) / Double(frameWidth), Double(viewHeight) / Double(frameHeight))
        dx = (Double(viewWidth) - Double(frameWidth) * scale) / 2
        dy = (Double(viewHeight) - Double(frameHeight) * scale) / 2
    }

    public func map(_ x: Double, _ y: Double) -> [Double] {
        let vx = x * scale + dx
        return [mirrored ? Double(viewWidth) - vx : vx, y * scale + dy]
    }
}
