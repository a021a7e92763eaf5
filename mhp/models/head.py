"""Integral regression: soft-argmax over a 3D heatmap volume (reference §5)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mhp.errors import MhpError


class SoftArgmax3D(nn.Module):
    """``(N, J*D, H, W)`` logits -> ``(N, J, 3)`` expected voxel coordinates ``(x, y, z)``.

    Channel ``c = j*D + d`` (joint-major). One softmax over all ``D*H*W`` voxels of a joint, then the
    expectation of each axis index under its marginal. Computed in float32 whatever the input dtype, with
    the max subtracted inside ``softmax``, so logits of +-1e4 are safe. Shapes are static and the index
    weights are non-persistent buffers, so the module exports to ONNX/TFLite/CoreML as plain ops.
    """

    def __init__(self, num_joints: int, depth_bins: int, height: int, width: int) -> None:
        super().__init__()
        self.num_joints, self.depth_bins, self.height, self.width = num_joints, depth_bins, height, width
        self.register_buffer("x_index", torch.arange(width, dtype=torch.float32), persistent=False)
        self.register_buffer("y_index", torch.arange(height, dtype=torch.float32), persistent=False)
        self.register_buffer("z_index", torch.arange(depth_bins, dtype=torch.float32), persistent=False)

    def extra_repr(self) -> str:
        return f"joints={self.num_joints}, volume={self.depth_bins}x{self.height}x{self.width}"

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        return self.expectation(self.probabilities(logits))

    def forward_with_confidence(self, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Coordinates and each joint's confidence: the probability of its most likely voxel, in (0, 1]."""
        probs = self.probabilities(logits)
        return self.expectation(probs), probs.amax(dim=(2, 3, 4))

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        """``(N, J, D, H, W)``: one softmax per joint over its whole volume."""
        j, d, h, w = self.num_joints, self.depth_bins, self.height, self.width
        if not torch.jit.is_tracing() and (logits.dim() != 4 or tuple(logits.shape[1:]) != (j * d, h, w)):
            raise MhpError(
                f"soft-argmax expects logits (N, {j * d}, {h}, {w}) for {j} joints x {d} depth bins, "
                f"got {tuple(logits.shape)}"
            )
        return F.softmax(logits.float().reshape(-1, j, d * h * w), dim=2).reshape(-1, j, d, h, w)

    def expectation(self, probs: torch.Tensor) -> torch.Tensor:
        x = (probs.sum(dim=(2, 3)) * self.x_index).sum(dim=2)
        y = (probs.sum(dim=(2, 4)) * self.y_index).sum(dim=2)
        z = (probs.sum(dim=(3, 4)) * self.z_index).sum(dim=2)
        return torch.stack([x, y, z], dim=2)
