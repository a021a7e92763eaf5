"""Host-side soft-argmax for artifacts that output raw heatmaps (full-INT8 TFLite), in float32 numpy."""

from __future__ import annotations

import numpy as np

from mhp.errors import MhpError


def soft_argmax_nhwc(heatmaps: np.ndarray, num_joints: int, depth_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """``(N, H, W, J*D)`` logits (channel ``j*D + d``) -> ``(N, J, 3)`` voxel coordinates and ``(N, J)`` confidence.

    The same maths as :class:`mhp.models.head.SoftArgmax3D` on the NHWC layout TFLite produces, without a
    transpose: one softmax per joint over its volume, then the expected index along x (W), y (H) and z (D).
    Confidence is the probability of the joint's most likely voxel.
    """
    n, h, w, c = heatmaps.shape
    if c != num_joints * depth_bins:
        raise MhpError(f"heatmaps have {c} channels, expected {num_joints} joints x {depth_bins} depth bins")
    volume = heatmaps.astype(np.float32, copy=False).reshape(n, h, w, num_joints, depth_bins)
    probs = np.exp(volume - volume.max(axis=(1, 2, 4), keepdims=True))
    probs /= probs.sum(axis=(1, 2, 4), keepdims=True)
    x = np.einsum("nwj,w->nj", probs.sum(axis=(1, 4)), np.arange(w, dtype=np.float32))
    y = np.einsum("nhj,h->nj", probs.sum(axis=(2, 4)), np.arange(h, dtype=np.float32))
    z = np.einsum("njd,d->nj", probs.sum(axis=(1, 2)), np.arange(depth_bins, dtype=np.float32))
    return np.stack([x, y, z], axis=2), probs.max(axis=(1, 2, 4))
