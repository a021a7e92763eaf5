"""Training losses: the integral L1 loss of the original (reference §7) and the optional bone-length losses (the
bone-length-ratio loss of Zhou et al. and the limb-length prior of ContextPose)."""

from __future__ import annotations

import torch

from mhp.data.dataset import CropConfig
from mhp.errors import MhpError
from mhp.geometry import DEPTH_RANGE_MM
from mhp.limbs import PLAUSIBLE_SIGMAS, LimbPrior
from mhp.skeleton import JointSet

MIN_SCALE_BONE_PX = 4.0  # a bone shorter than this in the patch cannot tell a 2D sample's scale

# Bone groups whose length ratios to the canonical skeleton should agree (Zhou et al., ICCV 2017).
GEO_GROUPS = (
    (("L_Shoulder", "L_Elbow"), ("L_Elbow", "L_Wrist"), ("R_Shoulder", "R_Elbow"), ("R_Elbow", "R_Wrist")),
    (("L_Hip", "L_Knee"), ("L_Knee", "L_Ankle"), ("R_Hip", "R_Knee"), ("R_Knee", "R_Ankle")),
    (("Thorax", "L_Shoulder"), ("Thorax", "R_Shoulder")),
    (("Pelvis", "L_Hip"), ("Pelvis", "R_Hip")),
)


def integral_l1_loss(
    pred: torch.Tensor, target: torch.Tensor, vis: torch.Tensor, has_depth: torch.Tensor
) -> torch.Tensor:
    """``mean_{batch, joints} (|dx| v + |dy| v + |dz| v d) / 3`` in voxel units (reference §7).

    ``pred``/``target`` ``(N, J, 3)``, ``vis`` ``(N, J, 1)``, ``has_depth`` ``(N, 1)``. Invisible joints add
    zero but still count in the mean, as in the original (reference Q8); 2D samples have no depth term.
    """
    error = (pred - target).abs() * vis
    return (error[..., 0] + error[..., 1] + error[..., 2] * has_depth).mean() / 3.0


def geo_bones(joint_set: JointSet) -> list[list[tuple[int, int]]]:
    """The :data:`GEO_GROUPS` bones present in ``joint_set``, as index pairs (groups of fewer than 2 dropped)."""
    groups = []
    for group in GEO_GROUPS:
        bones = [
            (joint_set.joints.index(a), joint_set.joints.index(b))
            for a, b in group
            if a in joint_set.joints and b in joint_set.joints
        ]
        if len(bones) >= 2:
            groups.append(bones)
    return groups


class BoneRatioLoss(torch.nn.Module):
    """Zhou et al.'s geometric constraint: within each bone group, 3D bone lengths divided by the canonical ones
    should all equal the group's mean ratio (their variance is the loss). Scale-free: only the proportions count.

    It takes skeletons in millimetres: for 2D-only samples, :meth:`skeleton_mm` builds them from the ground-truth
    2D joints and the predicted depth, as the paper does.
    """

    def __init__(self, joint_set: JointSet, canonical_mm: torch.Tensor) -> None:
        super().__init__()
        self.groups = geo_bones(joint_set)
        self.register_buffer("canonical", canonical_mm.float())

    def skeleton_mm(
        self, target: torch.Tensor, pred: torch.Tensor, vis: torch.Tensor, crop: CropConfig
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Skeletons of 2D-only samples in mm from their ground-truth 2D joints (``target`` voxels) and the predicted
        depth (``pred`` voxels), as Zhou et al. build them.

        A 2D crop has no metric scale, so the millimetres per patch pixel are estimated from the ground truth: a
        bone seen at ``l`` px gives ``canonical / l`` >= the true scale (foreshortening only shortens it), and the
        least foreshortened bone of the groups the closest bound. Returns ``(N, J, 3)`` skeletons and ``(N,)``
        flags of the samples with a usable scale (a bone's two joints visible and at least 4 px apart).
        """
        size = torch.tensor([crop.patch_size / crop.heatmap_size[0], crop.patch_size / crop.heatmap_size[1]])
        xy = target[..., :2] * size.to(target.device)
        z_mm = (pred[..., 2] / crop.depth_bins * 2.0 - 1.0) * (DEPTH_RANGE_MM / 2.0)
        pairs = torch.tensor([bone for group in self.groups for bone in group], device=target.device)
        seen_px = (xy[:, pairs[:, 0]] - xy[:, pairs[:, 1]]).norm(dim=-1)
        usable = (vis[:, pairs[:, 0], 0] * vis[:, pairs[:, 1], 0] > 0) & (seen_px >= MIN_SCALE_BONE_PX)
        bounds = self.canonical[pairs[:, 0], pairs[:, 1]] / seen_px.clamp(min=MIN_SCALE_BONE_PX)
        mm_per_px = torch.where(usable, bounds, torch.full_like(bounds, float("inf"))).min(dim=1).values
        has_scale = torch.isfinite(mm_per_px)
        mm_per_px = torch.where(has_scale, mm_per_px, torch.zeros_like(mm_per_px)).detach()
        return torch.cat([xy * mm_per_px[:, None, None], z_mm[..., None]], dim=-1), has_scale.float()

    def forward(self, joints_mm: torch.Tensor, vis: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """``joints_mm`` ``(N, J, 3)``, ``vis`` ``(N, J, 1)``, ``weight`` ``(N,)``: which samples count (1) or not."""
        if not torch.any(weight > 0):
            return joints_mm.new_zeros(())
        total = joints_mm.new_zeros(())
        for bones in self.groups:
            a = torch.tensor([i for i, _ in bones], device=joints_mm.device)
            b = torch.tensor([j for _, j in bones], device=joints_mm.device)
            length = (joints_mm[:, a] - joints_mm[:, b]).norm(dim=-1)
            ratio = length / self.canonical[a, b]
            seen = vis[:, a, 0] * vis[:, b, 0]
            count = seen.sum(dim=1).clamp(min=1.0)
            mean = (ratio * seen).sum(dim=1) / count
            variance = (((ratio - mean[:, None]) ** 2) * seen).sum(dim=1) / count
            total = total + (variance * weight).sum() / weight.sum().clamp(min=1.0)
        return total


def voxels_to_camera_mm(
    pred: torch.Tensor, affine: torch.Tensor, camera: torch.Tensor, crop: CropConfig
) -> torch.Tensor:
    """Model output ``(N, J, 3)`` voxels to camera millimetres, differentiably, with each sample's own crop
    ``affine`` ``(N, 2, 3)`` (image -> patch) and ``camera`` ``(N, 5)`` = root depth, fx, fy, cx, cy: the same
    back-projection as evaluation (``mhp.geometry.voxel_to_camera``)."""
    px = pred[..., 0] * (crop.patch_size / crop.heatmap_size[0])
    py = pred[..., 1] * (crop.patch_size / crop.heatmap_size[1])
    dz = (pred[..., 2] / crop.depth_bins * 2.0 - 1.0) * (DEPTH_RANGE_MM / 2.0)
    linear, shift = affine[:, :, :2].to(pred.dtype), affine[:, :, 2].to(pred.dtype)
    patch = torch.stack([px, py], dim=-1) - shift[:, None, :]
    image = torch.linalg.solve(linear, patch.transpose(1, 2)).transpose(1, 2)  # (N, J, 2) image pixels
    cam = camera.to(pred.dtype)
    depth = cam[:, None, 0] + dz
    x = (image[..., 0] - cam[:, None, 3]) * depth / cam[:, None, 1]
    y = (image[..., 1] - cam[:, None, 4]) * depth / cam[:, None, 2]
    return torch.stack([x, y, depth], dim=-1)


def known_camera(camera: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(camera, known)``: ``known`` ``(N, 1)`` is 1 where a sample's root depth and focal lengths are known (3D
    datasets); elsewhere the camera is replaced by a nominal one, so that no NaN reaches the gradients."""
    known = (camera[:, 0] > 0) & (camera[:, 1] > 0) & (camera[:, 2] > 0)
    nominal = torch.tensor([5000.0, 1000.0, 1000.0, 0.0, 0.0], dtype=camera.dtype, device=camera.device)
    return torch.where(known[:, None], camera, nominal), known.float()[:, None]


class LimbPriorLoss(torch.nn.Module):
    """Bones longer or shorter than the limb prior allows: ``relu(|L - mean| - 2 std) / std``, averaged over the
    bones whose two joints are visible. Skeletons in millimetres (image models: :func:`voxels_to_camera_mm`)."""

    def __init__(self, joint_set: JointSet, prior: LimbPrior) -> None:
        super().__init__()
        if prior.joint_set != joint_set.name:
            raise MhpError(
                f"the limb prior is for the {prior.joint_set} set but the model predicts {joint_set.name}; "
                f"compute one for {joint_set.name} with mhp-data stats"
            )
        parents, children = zip(*prior.bones, strict=True)
        self.register_buffer("parent_index", torch.tensor(parents))
        self.register_buffer("child_index", torch.tensor(children))
        self.register_buffer("mean", torch.tensor(prior.mean_mm, dtype=torch.float32))
        self.register_buffer("std", torch.tensor(prior.std_mm, dtype=torch.float32).clamp(min=1.0))

    def forward(self, joints_mm: torch.Tensor, vis: torch.Tensor, use: torch.Tensor | None = None) -> torch.Tensor:
        """``joints_mm`` ``(N, J, 3)``, ``vis`` ``(N, J, 1)``, ``use`` ``(N, 1)`` (None: every sample): samples left
        out (no depth, or no camera) add nothing; 0 when no bone is left."""
        length = (joints_mm[:, self.child_index] - joints_mm[:, self.parent_index]).norm(dim=-1)
        excess = torch.relu((length - self.mean).abs() - PLAUSIBLE_SIGMAS * self.std) / self.std
        seen = vis[:, self.parent_index, 0] * vis[:, self.child_index, 0]
        if use is not None:
            seen = seen * use
        return (excess * seen).sum() / seen.sum().clamp(min=1.0)


def canonical_bone_lengths(joints_cam: torch.Tensor, num_joints: int) -> torch.Tensor:
    """``(J, J)`` mean distance between every joint pair over 3D training poses ``(N, J, 3)`` in mm."""
    if joints_cam.numel() == 0:
        return torch.ones(num_joints, num_joints)
    diff = joints_cam[:, :, None, :] - joints_cam[:, None, :, :]
    return diff.norm(dim=-1).mean(dim=0).clamp(min=1.0)
