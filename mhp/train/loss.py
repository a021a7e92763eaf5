"""Training losses: the integral L1 loss of the original (reference §7) and the optional bone-length losses (the
bone-length-ratio loss of Zhou et al. and the limb-length prior of ContextPose)."""

from __future__ import annotations

import torch

from mhp.errors import MhpError
from mhp.limbs import PLAUSIBLE_SIGMAS, LimbPrior
from mhp.skeleton import JointSet

VOLUME_EXTENT_MM = 2000.0  # the 3D heatmap volume spans about a 2 m cube around the person (reference §5)

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
    """Geometric weak supervision for 2D-only samples: within each bone group, predicted 3D bone lengths
    divided by the canonical ones should all equal the group's mean ratio (the variance is penalised).

    Voxel coordinates become millimetres with the 2 m cube the volume spans (``extent_mm`` / size per axis),
    so depth, which 2D samples never see, is pulled toward anatomically consistent limbs.
    """

    def __init__(
        self,
        joint_set: JointSet,
        canonical_mm: torch.Tensor,
        volume: tuple[int, int, int],
        extent_mm: float = VOLUME_EXTENT_MM,
    ) -> None:
        super().__init__()
        self.groups = geo_bones(joint_set)
        self.register_buffer("scale", voxel_size_mm(volume, extent_mm))
        self.register_buffer("canonical", canonical_mm.float())

    def forward(self, pred: torch.Tensor, vis: torch.Tensor, has_depth: torch.Tensor) -> torch.Tensor:
        weight = 1.0 - has_depth[:, 0]  # only 2D samples
        if not torch.any(weight > 0):
            return pred.new_zeros(())
        mm = pred * self.scale
        total = pred.new_zeros(())
        for bones in self.groups:
            a = torch.tensor([i for i, _ in bones], device=pred.device)
            b = torch.tensor([j for _, j in bones], device=pred.device)
            length = (mm[:, a] - mm[:, b]).norm(dim=-1)
            ratio = length / self.canonical[a, b]
            seen = vis[:, a, 0] * vis[:, b, 0]
            count = seen.sum(dim=1).clamp(min=1.0)
            mean = (ratio * seen).sum(dim=1) / count
            variance = (((ratio - mean[:, None]) ** 2) * seen).sum(dim=1) / count
            total = total + (variance * weight).sum() / weight.sum().clamp(min=1.0)
        return total


def voxel_size_mm(volume: tuple[int, int, int], extent_mm: float = VOLUME_EXTENT_MM) -> torch.Tensor:
    """``(3,)`` millimetres per voxel along x, y, z of a ``(D, H, W)`` volume spanning ``extent_mm``."""
    d, h, w = volume
    return torch.tensor([extent_mm / w, extent_mm / h, extent_mm / d])


class LimbPriorLoss(torch.nn.Module):
    """Bones longer or shorter than the limb prior allows: ``relu(|L - mean| - 2 std) / std``, averaged over the
    bones whose two joints are visible (voxel coordinates in mm as in :class:`BoneRatioLoss`)."""

    def __init__(
        self, joint_set: JointSet, prior: LimbPrior, volume: tuple[int, int, int], extent_mm: float = VOLUME_EXTENT_MM
    ) -> None:
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
        self.register_buffer("scale", voxel_size_mm(volume, extent_mm))

    def forward(self, pred: torch.Tensor, vis: torch.Tensor, has_depth: torch.Tensor | None = None) -> torch.Tensor:
        """``pred`` ``(N, J, 3)`` voxels, ``vis`` ``(N, J, 1)``, ``has_depth`` ``(N, 1)`` (None: every sample);
        bones of samples without depth are left out; 0 when no bone is left."""
        mm = pred * self.scale
        length = (mm[:, self.child_index] - mm[:, self.parent_index]).norm(dim=-1)
        excess = torch.relu((length - self.mean).abs() - PLAUSIBLE_SIGMAS * self.std) / self.std
        seen = vis[:, self.parent_index, 0] * vis[:, self.child_index, 0]
        if has_depth is not None:
            seen = seen * has_depth
        return (excess * seen).sum() / seen.sum().clamp(min=1.0)


def canonical_bone_lengths(joints_cam: torch.Tensor, num_joints: int) -> torch.Tensor:
    """``(J, J)`` mean distance between every joint pair over 3D training poses ``(N, J, 3)`` in mm."""
    if joints_cam.numel() == 0:
        return torch.ones(num_joints, num_joints)
    diff = joints_cam[:, :, None, :] - joints_cam[:, None, :, :]
    return diff.norm(dim=-1).mean(dim=0).clamp(min=1.0)
