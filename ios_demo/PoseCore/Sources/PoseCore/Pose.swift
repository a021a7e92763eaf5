import Foundation

/// One person: joints in upright frame pixels, per-joint confidence, root-relative camera millimetres.
public struct Pose {
    public let jointsImage: [[Double]]
    public let confidence: [Double]
    public let jointsRelMm: [[Double]]
    public let rootDepthMm: Double
    public let cropBox: [Double]

    public init(jointsImage: [[Double]], confidence: [Double], jointsRelMm: [[Double]], rootDepthMm: Double, cropBox: [Double]) {
        self.jointsImage = jointsImage
        self.confidence = confidence
        self.jointsRelMm = jointsRelMm
        self.rootDepthMm = rootDepthMm
        self.cropBox = cropBox
    }
}

/// Voxels -> crop pixels -> frame pixels and camera millimetres, for one model's geometry (reference §5, §6.3, §9.6).
public struct PoseAssembler {
    private let inputSize: Int
    private let heatmapWidth: Int
    private let heatmapHeight: Int
    private let depthBins: Int
    private let root: Int

    public init(inputSize: Int, heatmapWidth: Int, heatmapHeight: Int, depthBins: Int, root: Int) {
        self.inputSize = inputSize
        self.heatmapWidth = heatmapWidth
        self.heatmapHeight = heatmapHeight
        self.depthBins = depthBins
        self.root = root
    }

    public init(manifest: ModelManifest) {
        self.init(
            inputSize: manifest.inputSize,
            heatmapWidth: manifest.heatmapWidth,
            heatmapHeight: manifest.heatmapHeight,
            depthBins: manifest.depthBins,
            root: manifest.skeleton.root
        )
    }

    /// `rootDepthMm` nil: RootNet's k-value from the crop box and the focal length.
    public func assemble(_ decoded: Decoded, cropBox: [Double], intrinsics: Intrinsics, rootDepthMm: Double? = nil) -> Pose {
        let toImage = CropMath.cropAffine(cropBox, size: inputSize).inverse()
        let depth = rootDepthMm ?? PoseAssembler.rootDepthFromBox(cropBox, focal: intrinsics.focal)
        let crops = decoded.coords.map {
            CropMath.voxelToCrop($0, heatmapWidth: heatmapWidth, heatmapHeight: heatmapHeight, depthBins: depthBins, size: inputSize)
        }
        let camera = crops.map {
            CropMath.cropToCamera($0, cropToImage: toImage, focal: intrinsics.focal, principal: intrinsics.principal, rootDepthMm: depth)
        }
        let rootMm = camera[root]
        return Pose(
            jointsImage: crops.map { toImage.apply($0[0], $0[1]) },
            confidence: decoded.confidence,
            jointsRelMm: camera.map { p in (0..<3).map { p[$0] - rootMm[$0] } },
            rootDepthMm: depth,
            cropBox: cropBox
        )
    }

    /// RootNet's k-value: the depth at which a 2 m x 2 m person fills the processed box.
    public static func rootDepthFromBox(_ cropBox: [Double], focal: [Double]) -> Double {
        (CropMath.depthRangeMm * CropMath.depthRangeMm * focal[0] * focal[1] / (cropBox[2] * cropBox[3])).squareRoot()
    }
}
