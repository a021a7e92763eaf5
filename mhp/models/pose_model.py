"""The assembled model: network -> 3D-heatmap logits -> soft-argmax coordinates, plus its input contract."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from mhp.errors import MhpError
from mhp.geometry import IMAGENET_MEAN, IMAGENET_STD, NORMALIZATIONS
from mhp.models.head import SoftArgmax3D
from mhp.skeleton import JOINT_SETS, JointSet, get_joint_set

# The joint set a joint count means when none is named (reference §8.5: 18 = Human3.6M, 21 = MuCo-3DHP).
DEFAULT_JOINT_SETS = {s.num_joints: s.name for s in JOINT_SETS.values()}


def resolve_joint_set(name: str | None, num_joints: int) -> JointSet | None:
    """The named joint set (its size must be ``num_joints``), else the default for that size, else None."""
    if name is None:
        return get_joint_set(DEFAULT_JOINT_SETS[num_joints]) if num_joints in DEFAULT_JOINT_SETS else None
    joint_set = get_joint_set(name)
    if joint_set.num_joints != num_joints:
        raise MhpError(f"joint set {joint_set.name} has {joint_set.num_joints} joints but num_joints is {num_joints}")
    return joint_set


class IntegralPoseModel(nn.Module):
    """``forward(images) -> (N, J, 3)`` voxel coordinates; ``forward_heatmaps(images) -> (N, J*D, H, W)`` logits.

    ``images`` are normalised RGB ``(N, 3, S, S)``; :meth:`normalize` turns 0-255 RGB pixels into them.
    ``backbone`` and ``head`` keep the original module names so original checkpoints load by prefix.
    """

    def __init__(
        self,
        backbone: nn.Module,
        head: nn.Module | None,
        *,
        num_joints: int,
        depth_bins: int,
        output_stride: int,
        input_size: int = 256,
        normalization: str = "legacy",
        joint_set: str | None = None,
    ) -> None:
        super().__init__()
        if normalization not in NORMALIZATIONS:
            raise MhpError(f"unknown normalization {normalization!r}; choose one of {', '.join(NORMALIZATIONS)}")
        if input_size % (output_stride * 8) != 0:
            raise MhpError(f"input_size {input_size} must be a multiple of {output_stride * 8} for this network")
        self.backbone = backbone
        self.head = head if head is not None else nn.Identity()
        side = input_size // output_stride
        self.integral = SoftArgmax3D(num_joints, depth_bins, side, side)
        self.num_joints, self.depth_bins = num_joints, depth_bins
        self.input_size, self.output_stride = input_size, output_stride
        self.heatmap_size = (side, side)  # (W, H)
        self.normalization = normalization
        self.joint_set = resolve_joint_set(joint_set, num_joints)
        self.register_buffer("pixel_mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("pixel_std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        # Filled in by ``create_model``: how to build this model again (saved in mhp checkpoints).
        self.model_name = ""
        self.model_kwargs: dict[str, Any] = {}

    def normalize(self, pixels: torch.Tensor) -> torch.Tensor:
        """0-255 RGB ``(N, 3, S, S)`` -> the network input, with this model's recorded normalisation."""
        return (pixels.float() * NORMALIZATIONS[self.normalization] - self.pixel_mean) / self.pixel_std

    def forward_heatmaps(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(images))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.integral(self.forward_heatmaps(images))
