package mhp.posecore

import kotlin.math.sqrt

/** One person: joints in upright frame pixels, per-joint confidence, root-relative camera millimetres. */
class Pose(
    val jointsImage: Array<DoubleArray>,
    val confidence: DoubleArray,
    val jointsRelMm: Array<DoubleArray>,
    val rootDepthMm: Double,
    val cropBox: DoubleArray,
)

/** Voxels -> crop pixels -> frame pixels and camera millimetres, for one model's geometry (reference §5, §6.3, §9.6). */
class PoseAssembler(
    private val inputSize: Int,
    private val heatmapWidth: Int,
    private val heatmapHeight: Int,
    private val depthBins: Int,
    private val root: Int,
) {
    constructor(manifest: ModelManifest) :
        this(manifest.inputSize, manifest.heatmapWidth, manifest.heatmapHeight, manifest.depthBins, manifest.skeleton.root)

    /** [rootDepthMm] null: RootNet's k-value from the crop box and the focal length. */
    fun assemble(decoded: Decoded, cropBox: DoubleArray, intrinsics: Intrinsics, rootDepthMm: Double? = null): Pose {
        val toImage = CropMath.cropAffine(cropBox, inputSize).inverse()
        val depth = rootDepthMm ?: rootDepthFromBox(cropBox, intrinsics.focal)
        val crops = decoded.coords.map { CropMath.voxelToCrop(it, heatmapWidth, heatmapHeight, depthBins, inputSize) }
        val camera = crops.map { CropMath.cropToCamera(it, toImage, intrinsics.focal, intrinsics.principal, depth) }
        val rootMm = camera[root]
        return Pose(
            jointsImage = crops.map { toImage.apply(it[0], it[1]) }.toTypedArray(),
            confidence = decoded.confidence.copyOf(),
            jointsRelMm = camera.map { p -> DoubleArray(3) { p[it] - rootMm[it] } }.toTypedArray(),
            rootDepthMm = depth,
            cropBox = cropBox.copyOf(),
        )
    }

    companion object {
        /** RootNet's k-value: the depth at which a 2 m x 2 m person fills the processed box. */
        fun rootDepthFromBox(cropBox: DoubleArray, focal: DoubleArray): Double =
            sqrt(CropMath.DEPTH_RANGE_MM * CropMath.DEPTH_RANGE_MM * focal[0] * focal[1] / (cropBox[2] * cropBox[3]))
    }
}
