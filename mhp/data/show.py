"""``mhp-data show``: a grid of augmented training crops with their target skeletons drawn on them."""

from __future__ import annotations

import cv2
import numpy as np

from mhp.data.dataset import PoseDataset
from mhp.geometry import IMAGENET_MEAN, IMAGENET_STD, NORMALIZATIONS
from mhp.skeleton import JointSet

LEFT, RIGHT, CENTRE = (60, 90, 255), (255, 140, 40), (60, 220, 60)  # BGR: left warm, right cool


def denormalize(image: np.ndarray, normalization: str) -> np.ndarray:
    """``(3, S, S)`` network input -> BGR uint8 (colour gains stay in)."""
    mean = np.asarray(IMAGENET_MEAN, np.float32)[:, None, None]
    std = np.asarray(IMAGENET_STD, np.float32)[:, None, None]
    rgb = (image * std + mean) / NORMALIZATIONS[normalization]
    return np.ascontiguousarray(np.clip(rgb, 0, 255).astype(np.uint8).transpose(1, 2, 0)[:, :, ::-1])


def joint_colour(joint_set: JointSet, j: int) -> tuple[int, int, int]:
    name = joint_set.joints[j]
    return LEFT if name.startswith("L_") else RIGHT if name.startswith("R_") else CENTRE


def draw_skeleton(image: np.ndarray, points: np.ndarray, vis: np.ndarray, joint_set: JointSet) -> np.ndarray:
    """Bones between visible joints and a dot per visible joint; ``points`` in image pixels."""
    out = image.copy()
    pts = np.round(points[:, :2] * 16).astype(np.int32)  # 4 fractional bits for sub-pixel drawing
    for a, b in joint_set.bones:
        if vis[a] > 0 and vis[b] > 0:
            colour = joint_colour(joint_set, b) if joint_colour(joint_set, b) != CENTRE else joint_colour(joint_set, a)
            cv2.line(out, tuple(pts[a]), tuple(pts[b]), colour, 2, cv2.LINE_AA, shift=4)
    for j in np.flatnonzero(vis > 0):
        cv2.circle(out, tuple(pts[j]), 3 * 16, joint_colour(joint_set, j), -1, cv2.LINE_AA, shift=4)
    return out


def voxel_to_patch_xy(joints: np.ndarray, dataset: PoseDataset) -> np.ndarray:
    crop = dataset.crop
    scale = np.array([crop.patch_size / crop.heatmap_size[0], crop.patch_size / crop.heatmap_size[1]])
    return joints[:, :2] * scale


def sample_tiles(dataset: PoseDataset, indices: list[int]) -> list[np.ndarray]:
    tiles = []
    for i in indices:
        sample = dataset[i]
        image = denormalize(sample["image"].numpy(), dataset.crop.normalization)
        points = voxel_to_patch_xy(sample["joints"].numpy(), dataset)
        tiles.append(draw_skeleton(image, points, sample["vis"].numpy()[:, 0], dataset.joint_set))
    return tiles


def make_grid(tiles: list[np.ndarray], columns: int = 4, gap: int = 4) -> np.ndarray:
    """Tiles of one size in rows of ``columns``, separated by ``gap`` white pixels."""
    h, w = tiles[0].shape[:2]
    rows = -(-len(tiles) // columns)
    grid = np.full((rows * h + (rows + 1) * gap, columns * w + (columns + 1) * gap, 3), 255, np.uint8)
    for k, tile in enumerate(tiles):
        r, c = divmod(k, columns)
        y, x = gap + r * (h + gap), gap + c * (w + gap)
        grid[y : y + h, x : x + w] = tile
    return grid
