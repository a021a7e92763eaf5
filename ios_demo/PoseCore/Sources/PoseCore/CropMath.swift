import Foundation

/// A 2x3 affine map: x' = a*x + b*y + c, y' = d*x + e*y + f.
public struct Affine {
    public let m: [Double]

    public init(_ m: [Double]) {
        self.m = m
    }

    public func apply(_ x: Double, _ y: Double) -> [Double] {
        [m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]]
    }

    /// This map first, then `next`.
    public func then(_ next: Affine) -> Affine {
        let n = next.m
        return Affine([
            n[0] * m[0] + n[1] * m[3], n[0] * m[1] + n[1] * m[4], n[0] * m[2] + n[1] * m[5] + n[2],
            n[3] * m[0] + n[4] * m[3], n[3] * m[1] + n[4] * m[4], n[3] * m[2] + n[4] * m[5] + n[5],
        ])
    }

    public func inverse() -> Affine {
        let det = m[0] * m[4] - m[1] * m[3]
        let a = m[4] / det
        let b = -m[1] / det
        let d = -m[3] / det
        let e = m[0] / det
        return Affine([a, b, -(a * m[2] + b * m[5]), d, e, -(d * m[2] + e * m[5])])
    }
}

/// Person box -> square crop and back (reference §6.1 / §6.3), and model voxels -> pixels -> camera millimetres (reference §5).
public enum CropMath {
    public static let expansion = 1.25
    public static let depthRangeMm = 2000.0

    /// Clip [x, y, w, h] to the image, widen to 1:1, expand 1.25x; nil when nothing is inside the image or the box
    /// holds NaN or an infinity (as mhp.geometry.process_bbox).
    public static func processBox(_ box: [Double], imageWidth: Int, imageHeight: Int) -> [Double]? {
        guard box.count == 4, (box[0] + box[1] + box[2] + box[3]).isFinite else {
            return nil
        }
        let (x, y, w, h) = (box[0], box[1], box[2], box[3])
        let x1 = max(0.0, x)
        let y1 = max(0.0, y)
        let x2 = min(Double(imageWidth) - 1.0, x1 + max(0.0, w - 1.0))
        let y2 = min(Double(imageHeight) - 1.0, y1 + max(0.0, h - 1.0))
        if w * h <= 0 || x2 < x1 || y2 < y1 {
            return nil
        }
        var bw = x2 - x1
        var bh = y2 - y1
        let cx = x1 + bw / 2
        let cy = y1 + bh / 2
        if bw > bh {
            bh = bw
        } else if bw < bh {
            bw = bh
        }
        bw *= expansion
        bh *= expansion
        return [cx - bw / 2, cy - bh / 2, bw, bh]
    }

    /// The crop of the centred person box (Boxes.centred, with the 1.25 expansion: the centred square of the frame),
    /// what a frame is cut from when its tracked box is unusable (NaN, infinite, empty or outside the frame).
    public static func centredCrop(imageWidth: Int, imageHeight: Int) -> [Double] {
        if let crop = processBox(Boxes.centred(width: imageWidth, height: imageHeight), imageWidth: imageWidth, imageHeight: imageHeight) {
            return crop
        }
        let side = Double(max(imageWidth, imageHeight, 1))
        return [0.0, 0.0, side, side]
    }

    /// Image pixels -> crop pixels for a processed box and a square crop of `size` pixels.
    public static func cropAffine(_ cropBox: [Double], size: Int) -> Affine {
        let side = Double(size)
        let sx = side / cropBox[2]
        let sy = side / cropBox[3]
        let cx = cropBox[0] + cropBox[2] / 2
        let cy = cropBox[1] + cropBox[3] / 2
        return Affine([sx, 0.0, side / 2.0 - cx * sx, 0.0, sy, side / 2.0 - cy * sy])
    }

    /// Voxel (x, y, z) -> (x_crop, y_crop, dz_mm relative to the root).
    public static func voxelToCrop(_ voxel: [Double], heatmapWidth: Int, heatmapHeight: Int, depthBins: Int, size: Int) -> [Double] {
        [
            voxel[0] * Double(size) / Double(heatmapWidth),
            voxel[1] * Double(size) / Double(heatmapHeight),
            (voxel[2] / Double(depthBins) * 2.0 - 1.0) * depthRangeMm / 2.0,
        ]
    }

    /// Crop pixels with root-relative depth -> camera millimetres, given the crop, intrinsics and root depth.
    public static func cropToCamera(_ crop: [Double], cropToImage: Affine, focal: [Double], principal: [Double], rootDepthMm: Double) -> [Double] {
        let image = cropToImage.apply(crop[0], crop[1])
        let z = crop[2] + rootDepthMm
        return [(image[0] - principal[0]) / focal[0] * z, (image[1] - principal[1]) / focal[1] * z, z]
    }
}
