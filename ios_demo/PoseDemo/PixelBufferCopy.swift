import Accelerate
import CoreVideo
import PoseCore

/// The camera's 32BGRA buffer as PoseCore's RGBA PixelBuffer: PoseCore reads channel 0 as red (as Android's RGBA_8888
/// frames), so blue and red are swapped while copying (one vImage pass).
enum PixelBufferCopy {
    static func rgba(_ buffer: CVPixelBuffer) throws -> PixelBuffer {
        guard CVPixelBufferGetPixelFormatType(buffer) == kCVPixelFormatType_32BGRA else {
            throw AppError("the camera delivered a pixel format other than 32BGRA")
        }
        CVPixelBufferLockBaseAddress(buffer, .readOnly)
        defer { CVPixelBufferUnlockBaseAddress(buffer, .readOnly) }
        let width = CVPixelBufferGetWidth(buffer)
        let height = CVPixelBufferGetHeight(buffer)
        guard let base = CVPixelBufferGetBaseAddress(buffer) else {
            throw AppError("the camera buffer has no pixels")
        }
        var bytes = [UInt8](repeating: 0, count: width * height * 4)
        let error = bytes.withUnsafeMutableBytes { out -> vImage_Error in
            var source = vImage_Buffer(
                data: base, height: vImagePixelCount(height), width: vImagePixelCount(width), rowBytes: CVPixelBufferGetBytesPerRow(buffer)
            )
            var destination = vImage_Buffer(
                data: out.baseAddress, height: vImagePixelCount(height), width: vImagePixelCount(width), rowBytes: width * 4
            )
            let bgraToRgba: [UInt8] = [2, 1, 0, 3]
            return vImagePermuteChannels_ARGB8888(&source, &destination, bgraToRgba, vImage_Flags(kvImageNoFlags))
        }
        guard error == kvImageNoError else {
            throw AppError("could not convert the camera frame (vImage error \(error))")
        }
        return try PixelBuffer(bytes: bytes, width: width, height: height, pixelStride: 4)
    }
}
