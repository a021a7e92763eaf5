"""Boxes, crops, the input normalisation, cameras and unit conversions (reference §5, §6.1, §6.3, §6.4, §9.6) as pure
numpy functions and constants.

Units are named in the variables: ``*_img`` original-image pixels, ``*_patch`` pixels of the network input
crop, ``*_voxel`` heatmap units (x, y in [0, W-1], z in [0, D-1]), ``*_cam`` camera-space millimetres.
"""

from __future__ import annotations

import math

import numpy as np

from mhp.errors import MhpError

BBOX_EXPANSION = 1.25
DEPTH_RANGE_MM = 2000.0  # bbox_3d_shape[0] of the original config: the volume spans root +- 1000 mm

# The input normalisation every mhp model applies to 0-255 RGB crops: pixel * scale, then (x - mean) / std.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# Pixel scale applied to 0-255 RGB before (x - mean) / std. "legacy" is the original code's (reference §6.4,
# reference Q1: 0-255 values normalised with 0-1 ImageNet statistics); every original checkpoint expects it.
NORMALIZATIONS = {"legacy": 1.0, "unit": 1.0 / 255.0}


def process_bbox(
    bbox: np.ndarray | list[float],
    img_width: int,
    img_height: int,
    aspect_ratio: float = 1.0,
    expansion: float = BBOX_EXPANSION,
) -> np.ndarray | None:
    """Clip an ``[x, y, w, h]`` box to the image, widen it to ``aspect_ratio`` (w/h) and expand it.

    Returns ``None`` for a box with no area inside the image (the original code's rejection rule) or with NaN
    or infinite values. The result may extend past the image borders; the crop pads with black there.
    """
    x, y, w, h = (float(v) for v in bbox)
    if not math.isfinite(x + y + w + h):
        return None
    x1, y1 = max(0.0, x), max(0.0, y)
    x2 = min(img_width - 1.0, x1 + max(0.0, w - 1.0))
    y2 = min(img_height - 1.0, y1 + max(0.0, h - 1.0))
    if w * h <= 0 or x2 < x1 or y2 < y1:
        return None
    w, h = x2 - x1, y2 - y1
    cx, cy = x1 + w / 2.0, y1 + h / 2.0
    if w > aspect_ratio * h:
        h = w / aspect_ratio
    elif w < aspect_ratio * h:
        w = h * aspect_ratio
    w, h = w * expansion, h * expansion
    return np.array([cx - w / 2.0, cy - h / 2.0, w, h], dtype=np.float64)


def _rotate(point: np.ndarray, angle_rad: float) -> np.ndarray:
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    return np.array([point[0] * c - point[1] * s, point[0] * s + point[1] * c])


def crop_affine(
    center: tuple[float, float],
    size: tuple[float, float],
    patch_size: tuple[int, int] = (256, 256),
    scale: float = 1.0,
    rotation_deg: float = 0.0,
) -> np.ndarray:
    """2x3 matrix taking image pixels to patch pixels (reference §6.3).

    The box centre goes to the patch centre; ``centre + R(r)(0, s*h/2)`` to the bottom-edge centre and
    ``centre + R(r)(s*w/2, 0)`` to the right-edge centre. ``size`` is (w, h), ``patch_size`` (W, H).
    """
    src_w, src_h = size[0] * scale, size[1] * scale
    dst_w, dst_h = float(patch_size[0]), float(patch_size[1])
    angle = math.radians(rotation_deg)
    c = np.asarray(center, dtype=np.float64)
    src = np.stack([c, c + _rotate(np.array([0.0, src_h / 2]), angle), c + _rotate(np.array([src_w / 2, 0.0]), angle)])
    dst = np.array([[dst_w / 2, dst_h / 2], [dst_w / 2, dst_h], [dst_w, dst_h / 2]])
    return affine_from_points(src, dst)


def bbox_crop_affine(
    bbox: np.ndarray | list[float],
    patch_size: tuple[int, int] = (256, 256),
    scale: float = 1.0,
    rotation_deg: float = 0.0,
) -> np.ndarray:
    """:func:`crop_affine` for a processed ``[x, y, w, h]`` box."""
    x, y, w, h = (float(v) for v in bbox)
    return crop_affine((x + w / 2, y + h / 2), (w, h), patch_size, scale, rotation_deg)


def affine_from_points(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2x3 affine mapping three source points exactly onto three destination points."""
    src_h = np.concatenate([np.asarray(src, np.float64), np.ones((3, 1))], axis=1)
    return np.linalg.solve(src_h, np.asarray(dst, np.float64)).T


def invert_affine(affine: np.ndarray) -> np.ndarray:
    """Inverse of a 2x3 affine matrix, or of a stack ``(..., 2, 3)`` of them."""
    affine = np.asarray(affine, dtype=np.float64)
    bottom = np.broadcast_to([0.0, 0.0, 1.0], (*affine.shape[:-2], 1, 3))
    return np.linalg.inv(np.concatenate([affine, bottom], axis=-2))[..., :2, :]


def apply_affine(points: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """Apply a 2x3 affine (or a ``(..., 2, 3)`` stack matching the leading axes) to ``(..., K, C)`` points.

    The first two columns are transformed; further columns (e.g. depth) pass through.
    """
    points = np.asarray(points, dtype=np.float64)
    affine = np.asarray(affine, dtype=np.float64)
    xy = np.einsum("...ij,...kj->...ki", affine[..., :2], points[..., :2]) + affine[..., None, :, 2]
    return np.concatenate([xy, points[..., 2:]], axis=-1)


def cam2pixel(joints_cam: np.ndarray, focal: np.ndarray, principal: np.ndarray) -> np.ndarray:
    """Project ``(..., 3)`` camera millimetres to ``(..., 3)`` = (x_img, y_img, Z)."""
    joints_cam = np.asarray(joints_cam, dtype=np.float64)
    z = joints_cam[..., 2]
    x = joints_cam[..., 0] / (z + 1e-8) * focal[0] + principal[0]
    y = joints_cam[..., 1] / (z + 1e-8) * focal[1] + principal[1]
    return np.stack([x, y, z], axis=-1)


def pixel2cam(joints_img: np.ndarray, focal: np.ndarray, principal: np.ndarray) -> np.ndarray:
    """Back-project ``(..., 3)`` = (x_img, y_img, Z in mm) to camera millimetres."""
    joints_img = np.asarray(joints_img, dtype=np.float64)
    z = joints_img[..., 2]
    x = (joints_img[..., 0] - principal[0]) / focal[0] * z
    y = (joints_img[..., 1] - principal[1]) / focal[1] * z
    return np.stack([x, y, z], axis=-1)


def world_to_camera(joints_world: np.ndarray, rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
    """``X_cam = R X_world + t`` (the Human3.6M camera json convention, reference §9.1)."""
    return np.asarray(joints_world, np.float64) @ np.asarray(rotation, np.float64).T + np.asarray(
        translation, np.float64
    ).reshape(3)


def voxel_to_patch(
    joints_voxel: np.ndarray,
    heatmap_size: tuple[int, int],
    depth_bins: int,
    patch_size: tuple[int, int] = (256, 256),
    depth_range_mm: float = DEPTH_RANGE_MM,
) -> np.ndarray:
    """Voxel ``(x, y, z)`` to ``(x_patch, y_patch, dz_mm)`` with dz relative to the root.

    ``heatmap_size`` and ``patch_size`` are (W, H). x and y scale with no half-pixel offset (reference §5).
    """
    v = np.asarray(joints_voxel, dtype=np.float64)
    x = v[..., 0] * patch_size[0] / heatmap_size[0]
    y = v[..., 1] * patch_size[1] / heatmap_size[1]
    dz = (v[..., 2] / depth_bins * 2.0 - 1.0) * (depth_range_mm / 2.0)
    return np.stack([x, y, dz], axis=-1)


def patch_to_voxel(
    joints_patch: np.ndarray,
    heatmap_size: tuple[int, int],
    depth_bins: int,
    patch_size: tuple[int, int] = (256, 256),
    depth_range_mm: float = DEPTH_RANGE_MM,
) -> np.ndarray:
    """Inverse of :func:`voxel_to_patch`: ``(x_patch, y_patch, dz_mm)`` to voxel units (training targets)."""
    p = np.asarray(joints_patch, dtype=np.float64)
    x = p[..., 0] * heatmap_size[0] / patch_size[0]
    y = p[..., 1] * heatmap_size[1] / patch_size[1]
    z = (p[..., 2] / (depth_range_mm / 2.0) + 1.0) / 2.0 * depth_bins
    return np.stack([x, y, z], axis=-1)


def voxel_to_camera(
    joints_voxel: np.ndarray,
    *,
    crop: np.ndarray,
    root_depth_mm: float | np.ndarray,
    focal: np.ndarray,
    principal: np.ndarray,
    heatmap_size: tuple[int, int],
    depth_bins: int,
    patch_size: tuple[int, int] = (256, 256),
    depth_range_mm: float = DEPTH_RANGE_MM,
) -> np.ndarray:
    """Model output to absolute camera millimetres: voxel -> patch -> image (inverse ``crop``) -> camera.

    ``crop`` is the 2x3 image-to-patch affine the input was cut with; ``root_depth_mm`` is the absolute
    depth of the root (ground truth or RootNet), broadcast against the leading axes.
    """
    joints_patch = voxel_to_patch(joints_voxel, heatmap_size, depth_bins, patch_size, depth_range_mm)
    joints_img = apply_affine(joints_patch, invert_affine(crop))
    joints_img[..., 2] += np.asarray(root_depth_mm, np.float64)[..., None]
    return pixel2cam(joints_img, focal, principal)


def root_depth_from_bbox(
    bbox: np.ndarray | list[float], focal: tuple[float, float], area_mm2: float = DEPTH_RANGE_MM**2
) -> float:
    """RootNet's k-value: the depth at which a ``area_mm2`` person fills the processed box (reference §9.6)."""
    w, h = float(bbox[2]), float(bbox[3])
    if not (w > 0 and h > 0 and math.isfinite(w * h) and all(0 < f < math.inf for f in focal)):
        raise MhpError(f"the k-value depth needs a positive box size ({w} x {h}) and focal length ({focal})")
    return math.sqrt(area_mm2 * focal[0] * focal[1] / (w * h))


def similarity_align(pred: np.ndarray, gt: np.ndarray, *, scale: bool = True) -> np.ndarray:
    """Procrustes-align ``(N, J, 3)`` predictions to ground truth per sample.

    Finds the rotation (reflections excluded), translation and, if ``scale``, the uniform scale minimising
    the squared error; ``scale=False`` is the rigid alignment 3DMPPE calls protocol 1.
    """
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    if pred.shape != gt.shape or pred.ndim < 2 or pred.shape[-1] != 3:
        raise MhpError(f"similarity_align needs two (N, J, 3) arrays of one shape, got {pred.shape} and {gt.shape}")
    if not (np.isfinite(pred).all() and np.isfinite(gt).all()):
        raise MhpError("similarity_align got NaN or infinite coordinates; check the predictions and the ground truth")
    mu_p = pred.mean(axis=-2, keepdims=True)
    mu_g = gt.mean(axis=-2, keepdims=True)
    p, g = pred - mu_p, gt - mu_g
    u, s, vt = np.linalg.svd(np.swapaxes(p, -1, -2) @ g)
    # Flip the weakest axis when the best orthogonal map is a reflection.
    sign = np.sign(np.linalg.det(u @ vt))
    s = s.copy()
    s[..., -1] *= sign
    u = u.copy()
    u[..., :, -1] *= sign[..., None]
    rotation = u @ vt  # p @ rotation ~ g
    if scale:
        factor = s.sum(axis=-1) / np.maximum((p**2).sum(axis=(-1, -2)), 1e-12)
    else:
        factor = np.ones(pred.shape[:-2])
    return factor[..., None, None] * (p @ rotation) + mu_g


def is_box(value: object) -> bool:
    """Whether a JSON value is ``[x, y, w, h]``: four finite numbers (booleans are not numbers here)."""
    return isinstance(value, list) and len(value) == 4 and all(finite_number(v) for v in value)


def finite_number(value: object) -> bool:
    """Whether a JSON value is a finite number (not a boolean)."""
    try:
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    except OverflowError:  # an integer beyond the float range
        return False
