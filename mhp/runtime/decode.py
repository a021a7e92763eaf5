"""Host-side soft-argmax for artifacts that output raw heatmaps (full-INT8 TFLite), in float32 numpy."""

from __future__ import annotations

import numpy as np

from mhp.errors import MhpError

# exp(logit) needs no shift while every logit is at most 60 (a sum of 2^20 weights of e^60, moments included, stays
# far below float32's 3.4e38) and no joint's peak is below -50 (every weight within e^-30 of its joint's peak is
# then a normal float32); otherwise each joint's peak is subtracted first
UNSHIFTED_MAX, UNSHIFTED_MIN_PEAK = 60.0, -50.0
# a logit below -80 counts as -80 (its weight e^-80 is at least e^-30 under every joint's peak weight: nothing a
# sum can see): underflowing into subnormal floats makes exp and the matrix product several times slower
EXP_FLOOR = -80.0
CHUNK_BYTES = 1 << 19  # the float32 weights of one chunk of heatmap pixels, sized to stay in a core's L2 cache


def soft_argmax_nhwc(
    heatmaps: np.ndarray, num_joints: int, depth_bins: int, *, scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """``(N, H, W, J*D)`` logits (channel ``j*D + d``) -> ``(N, J, 3)`` voxel coordinates and ``(N, J)`` confidence.

    The same maths as :class:`mhp.models.head.SoftArgmax3D` on the NHWC layout TFLite produces, without a
    transpose: one softmax per joint over its volume, then the expected index along x (W), y (H) and z (D).
    Confidence is the probability of the joint's most likely voxel. Quantised heatmaps are passed as they are
    with their ``scale`` (the zero point cancels in each softmax). The volume is read in chunks of pixels that
    stay in cache: ``exp(scale * value)``, then one matrix product with the chunk's (1, x, y) grid adds every
    channel's weight and its x and y moments at once; the rest works on (J, D) numbers.
    """
    n, h, w, c = heatmaps.shape
    if c != num_joints * depth_bins:
        raise MhpError(f"heatmaps have {c} channels, expected {num_joints} joints x {depth_bins} depth bins")
    flat = heatmaps.reshape(n, h * w, c)
    peaks = flat.max(axis=1).reshape(n, num_joints, depth_bins).max(axis=2).astype(np.float32) * np.float32(scale)
    shifted = peaks.max() > UNSHIFTED_MAX or peaks.min() < UNSHIFTED_MIN_PEAK
    lowest = float(flat.min()) * scale - (float(peaks.max()) if shifted else 0.0)
    grid = np.stack(
        [
            np.ones(h * w, np.float32),
            np.tile(np.arange(w, dtype=np.float32), h),
            np.repeat(np.arange(h, dtype=np.float32), w),
        ]
    )
    rows = max(1, CHUNK_BYTES // (4 * c))
    work = np.empty((min(rows, h * w), c), np.float32)
    moments = np.zeros((n, 3, c), np.float32)  # per channel: summed weight, x moment, y moment
    for i in range(n):
        shift = np.repeat(peaks[i], depth_bins) if shifted else None
        for start in range(0, h * w, rows):
            chunk = flat[i, start : start + rows]
            weights = np.multiply(chunk, np.float32(scale), dtype=np.float32, out=work[: len(chunk)])
            if shift is not None:
                weights -= shift
            if lowest < EXP_FLOOR:
                np.maximum(weights, np.float32(EXP_FLOOR), out=weights)
            np.exp(weights, out=weights)
            moments[i] += grid[:, start : start + rows] @ weights
    moments = moments.reshape(n, 3, num_joints, depth_bins)
    total = moments[:, 0].sum(axis=2)
    z = moments[:, 0] @ np.arange(depth_bins, dtype=np.float32)
    coords = np.stack([moments[:, 1].sum(axis=2), moments[:, 2].sum(axis=2), z], axis=2)
    return coords / total[..., None], np.exp(np.where(shifted, 0, peaks)) / total
