"""Host-side soft-argmax for artifacts that output raw heatmaps (full-INT8 TFLite), in float32 numpy."""

from __future__ import annotations

import numpy as np

from mhp.errors import MhpError


def soft_argmax_nhwc(
    heatmaps: np.ndarray, num_joints: int, depth_bins: int, *, scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """``(N, H, W, J*D)`` logits (channel ``j*D + d``) -> ``(N, J, 3)`` voxel coordinates and ``(N, J)`` confidence.

    The same maths as :class:`mhp.models.head.SoftArgmax3D` on the NHWC layout TFLite produces, without a
    transpose: one softmax per joint over its volume, then the expected index along x (W), y (H) and z (D).
    Confidence is the probability of the joint's most likely voxel. Quantised heatmaps may be passed as they
    are with their ``scale``: subtracting each joint's peak cancels the zero point, so no dequantised copy is
    made (five passes over the volume in all: cast, shift, exp and two sums).
    """
    n, h, w, c = heatmaps.shape
    if c != num_joints * depth_bins:
        raise MhpError(f"heatmaps have {c} channels, expected {num_joints} joints x {depth_bins} depth bins")
    volume = heatmaps.reshape(n, h, w, num_joints, depth_bins)
    peak = volume.max(axis=(1, 2, 4), keepdims=True).astype(np.float32)
    weights = volume.astype(np.float32)
    weights -= peak
    if scale != 1.0:
        weights *= np.float32(scale)
    np.exp(weights, out=weights)  # 1 at each joint's peak
    planes = weights.sum(axis=4)  # (N, H, W, J)
    depth = weights.sum(axis=(1, 2))  # (N, J, D)
    total = depth.sum(axis=2)  # (N, J)
    x = np.einsum("nwj,w->nj", planes.sum(axis=1), np.arange(w, dtype=np.float32))
    y = np.einsum("nhj,h->nj", planes.sum(axis=2), np.arange(h, dtype=np.float32))
    z = np.einsum("njd,d->nj", depth, np.arange(depth_bins, dtype=np.float32))
    return np.stack([x, y, z], axis=2) / total[..., None], 1.0 / total
