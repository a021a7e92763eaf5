"""Host-side soft-argmax for artifacts that output raw heatmaps (TFLite and ONNX INT8), in float32 numpy."""

from __future__ import annotations

import functools

import cv2
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


@functools.lru_cache(maxsize=8)
def pixel_grid(height: int, width: int) -> np.ndarray:
    """``(3, H*W)``: 1, x and y of every pixel in row-major order (read-only: it is shared between calls)."""
    grid = np.stack(
        [
            np.ones(height * width, np.float32),
            np.tile(np.arange(width, dtype=np.float32), height),
            np.repeat(np.arange(height, dtype=np.float32), width),
        ]
    )
    grid.flags.writeable = False
    return grid


def soft_argmax_nhwc(
    heatmaps: np.ndarray, num_joints: int, depth_bins: int, *, scale: float = 1.0, zero_point: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``(N, H, W, J*D)`` logits (channel ``j*D + d``) -> ``(N, J, 3)`` voxel coordinates and ``(N, J)`` confidence.

    The same maths as :class:`mhp.models.head.SoftArgmax3D` on the NHWC layout TFLite produces, without a
    transpose: one softmax per joint over its volume, then the expected index along x (W), y (H) and z (D).
    Confidence is the probability of the joint's most likely voxel. Quantised (int8 or uint8) heatmaps are passed
    as they are, with their ``scale`` and ``zero_point``. The volume is read in chunks of pixels that stay in
    cache: each value's weight ``exp(logit)``, then one matrix product with the chunk's (1, x, y) grid adds every
    channel's weight and its x and y moments at once; the rest works on (J, D) numbers. A quantised value has 256
    possible weights: they are computed once and looked up (OpenCV's ``LUT``), where float logits need an ``exp``
    per value.
    """
    n, h, w, c = heatmaps.shape
    if c != num_joints * depth_bins:
        raise MhpError(f"heatmaps have {c} channels, expected {num_joints} joints x {depth_bins} depth bins")
    flat = heatmaps.reshape(n, h * w, c)
    scale, zero_point = np.float32(scale), np.float32(zero_point)
    peak_values = flat.max(axis=1).reshape(n, num_joints, depth_bins).max(axis=2).astype(np.float32)
    peaks = (peak_values - zero_point) * scale
    shifted = peaks.max() > UNSHIFTED_MAX or peaks.min() < UNSHIFTED_MIN_PEAK
    table, lowest = None, 0.0
    if heatmaps.dtype in (np.int8, np.uint8) and not shifted:
        levels = np.arange(256, dtype=np.uint8).view(heatmaps.dtype).astype(np.float32)  # by the byte's value
        table = np.exp(np.maximum((levels - zero_point) * scale, np.float32(EXP_FLOOR)))
    else:  # the lowest logit after its shift: below EXP_FLOOR, logits are clamped first
        lowest = (float(flat.min()) - float(zero_point)) * float(scale) - (float(peaks.max()) if shifted else 0.0)
    grid = pixel_grid(h, w)
    rows = max(1, CHUNK_BYTES // (4 * c))
    work = np.empty((min(rows, h * w), c), np.float32)
    moments = np.zeros((n, 3, c), np.float32)  # per channel: summed weight, x moment, y moment
    for i in range(n):
        # what each logit loses before its exp: the zero point, and each joint's peak when shifted
        shift = zero_point * scale + (np.repeat(peaks[i], depth_bins) if shifted else np.float32(0))
        for start in range(0, h * w, rows):
            chunk = flat[i, start : start + rows]
            weights = work[: len(chunk)]
            if table is not None:
                weights = cv2.LUT(chunk.view(np.uint8), table, dst=weights)
            else:
                np.multiply(chunk, scale, dtype=np.float32, out=weights)
                if shifted or zero_point:
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
