"""The input pipeline of reference §6: augmentation, the affine crop, targets in voxel units, normalisation.

The horizontal flip is folded into the crop affine (mirror x -> W - 1 - x, then crop around the mirrored
box centre), which is exactly the original "flip the image, then crop" but lets a JPEG be decoded at 1/2 or
1/4 scale: the targets are always computed with the full-resolution affine, so they do not change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from mhp.geometry import DEPTH_RANGE_MM, IMAGENET_MEAN, IMAGENET_STD, NORMALIZATIONS, apply_affine, crop_affine


@dataclass(frozen=True)
class AugmentConfig:
    """Training augmentation; the defaults are the original code's probabilities and ranges (reference §6.2)."""

    scale_factor: float = 0.25  # s = clip(N(0,1), -1, 1) * factor + 1
    rotation_factor: float = 30.0  # r = clip(N(0,1), -2, 2) * factor degrees ...
    rotation_prob: float = 0.6  # ... with this probability, else 0
    flip_prob: float = 0.5
    color_factor: float = 0.2  # per-channel gains U(1 - factor, 1 + factor)
    occlusion_prob: float = 0.5
    occlusion_max_area: float = 0.7  # of the box area
    occlusion_attempts: int = 50  # the original retries forever; a box far outside the image could hang it


@dataclass(frozen=True)
class Augmentation:
    """The parameters drawn for one sample."""

    scale: float = 1.0
    rotation: float = 0.0
    flip: bool = False
    color: tuple[float, float, float] = (1.0, 1.0, 1.0)
    occlusion: tuple[int, int, int, int] | None = None  # x, y, w, h in full-resolution image pixels


NO_AUGMENTATION = Augmentation()


def occlusion_rect(
    rng: np.random.Generator, bbox: np.ndarray, width: int, height: int, cfg: AugmentConfig
) -> tuple[int, int, int, int] | None:
    """A random rectangle inside the box and the image (reference §6.2), or None if none was found."""
    bx, by, bw, bh = (float(v) for v in bbox)
    for _ in range(cfg.occlusion_attempts):
        area = rng.random() * cfg.occlusion_max_area * bw * bh
        ratio = rng.random() * (1 / 0.3 - 0.3) + 0.3
        h, w = math.sqrt(area * ratio), math.sqrt(area / ratio)
        x = rng.random() * (bw - w - 1) + bx
        y = rng.random() * (bh - h - 1) + by
        if x >= 0 and y >= 0 and x + w < width and y + h < height:
            return int(x), int(y), int(w), int(h)
    return None


def sample_augmentation(
    rng: np.random.Generator, cfg: AugmentConfig, bbox: np.ndarray, width: int, height: int
) -> Augmentation:
    scale = float(np.clip(rng.standard_normal(), -1.0, 1.0) * cfg.scale_factor + 1.0)
    rotation = float(np.clip(rng.standard_normal(), -2.0, 2.0) * cfg.rotation_factor)
    rotation = rotation if rng.random() <= cfg.rotation_prob else 0.0
    flip = bool(rng.random() <= cfg.flip_prob)
    color = tuple(float(g) for g in rng.uniform(1.0 - cfg.color_factor, 1.0 + cfg.color_factor, 3))
    occlusion = occlusion_rect(rng, bbox, width, height, cfg) if rng.random() <= cfg.occlusion_prob else None
    return Augmentation(scale, rotation, flip, color, occlusion)


def sample_crop_affine(bbox: np.ndarray, width: int, aug: Augmentation, patch_size: int) -> np.ndarray:
    """2x3 affine from full-resolution image pixels to patch pixels, the flip included (reference §6.3)."""
    x, y, w, h = (float(v) for v in bbox)
    cx, cy = x + w / 2.0, y + h / 2.0
    if not aug.flip:
        return crop_affine((cx, cy), (w, h), (patch_size, patch_size), aug.scale, aug.rotation)
    crop = crop_affine((width - cx - 1.0, cy), (w, h), (patch_size, patch_size), aug.scale, aug.rotation)
    mirror = np.array([[-1.0, 0.0, width - 1.0], [0.0, 1.0, 0.0]])
    return np.concatenate([crop[:, :2] @ mirror[:, :2], crop[:, :2] @ mirror[:, 2:] + crop[:, 2:]], axis=1)


def decode_reduction(bbox: np.ndarray, aug: Augmentation, patch_size: int, allowed: tuple[int, ...] = (4, 2)) -> int:
    """The largest JPEG downscale (4 or 2) that still leaves at least one source pixel per patch pixel."""
    window = min(float(bbox[2]), float(bbox[3])) * aug.scale
    return next((k for k in allowed if window / k >= patch_size), 1)


def occlude(image: np.ndarray, rect: tuple[int, int, int, int], rng: np.random.Generator, reduce: int = 1) -> None:
    """Fill ``rect`` (full-resolution pixels) with uniform noise in [0, 255), in place."""
    x, y, w, h = (v // reduce for v in rect)
    if w > 0 and h > 0:
        image[y : y + h, x : x + w] = (rng.random((h, w, 3)) * 255).astype(image.dtype)


def warp_patch(image: np.ndarray, affine: np.ndarray, patch_size: int, reduce: int = 1) -> np.ndarray:
    """Cut the patch with bilinear sampling and a black border; ``image`` may be decoded at 1/``reduce`` scale.

    A reduced pixel i covers full-resolution pixels reduce*i ... reduce*i + reduce - 1, so its centre is at
    reduce*i + (reduce - 1)/2; the affine is composed with that map.
    """
    if reduce != 1:
        offset = (reduce - 1) / 2.0
        affine = np.concatenate(
            [affine[:, :2] * reduce, affine[:, 2:] + affine[:, :2].sum(1, keepdims=True) * offset], 1
        )
    return cv2.warpAffine(
        image, affine, (patch_size, patch_size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )


def build_targets(
    joints_img: np.ndarray,
    joints_vis: np.ndarray,
    affine: np.ndarray,
    *,
    flip_perm: np.ndarray | None,
    heatmap_size: tuple[int, int],
    depth_bins: int,
    patch_size: int,
    depth_range_mm: float = DEPTH_RANGE_MM,
) -> tuple[np.ndarray, np.ndarray]:
    """Voxel targets ``(J, 3)`` and visibility ``(J,)`` (reference §6.5).

    ``joints_img`` is (x_img, y_img, dz_mm); with ``flip_perm`` the left/right rows are swapped after the
    mirror. A joint stays visible only inside the patch and within root +- depth_range/2.
    """
    xy = apply_affine(joints_img[:, :2], affine)
    z = (joints_img[:, 2] / (depth_range_mm / 2.0) + 1.0) / 2.0
    vis = np.asarray(joints_vis, dtype=np.float64).copy()
    if flip_perm is not None:
        xy, z, vis = xy[flip_perm], z[flip_perm], vis[flip_perm]
    inside = (xy[:, 0] >= 0) & (xy[:, 0] < patch_size) & (xy[:, 1] >= 0) & (xy[:, 1] < patch_size)
    vis = vis * (inside & (z >= 0) & (z < 1))
    voxel = np.stack(
        [xy[:, 0] * heatmap_size[0] / patch_size, xy[:, 1] * heatmap_size[1] / patch_size, z * depth_bins], axis=1
    )
    return voxel, vis


def to_network_input(patch_bgr: np.ndarray, color: tuple[float, float, float], normalization: str) -> np.ndarray:
    """BGR patch -> RGB, colour gains, clip to [0, 255], normalise -> ``(3, S, S)`` float32 (reference §6.4).

    Fused per channel: with k = pixel_scale / std and m = mean / std, ``min(x * g, 255) * k - m`` equals the
    original clip-then-normalise for non-negative pixels and gains, in one pass instead of six.
    """
    scale = NORMALIZATIONS[normalization]
    out = np.empty((3, *patch_bgr.shape[:2]), dtype=np.float32)
    for c in range(3):  # RGB channel c is BGR channel 2 - c
        k = np.float32(scale / IMAGENET_STD[c])
        np.multiply(patch_bgr[:, :, 2 - c], np.float32(color[c]) * k, out=out[c], dtype=np.float32)
        if color[c] > 1.0:
            np.minimum(out[c], np.float32(255.0) * k, out=out[c])
        out[c] -= np.float32(IMAGENET_MEAN[c] / IMAGENET_STD[c])
    return out
