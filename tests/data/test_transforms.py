"""The input pipeline (reference §6): flip folded into the crop, reduced decoding, targets, normalisation."""

import cv2
import numpy as np
import pytest

from mhp.data.transforms import (
    Augmentation,
    AugmentConfig,
    build_targets,
    decode_reduction,
    occlusion_rect,
    sample_augmentation,
    sample_crop_affine,
    to_network_input,
    warp_patch,
)
from mhp.geometry import apply_affine, crop_affine
from mhp.skeleton import H36M

W_IMG, H_IMG = 640, 480
BBOX = np.array([180.0, 60.0, 300.0, 300.0])


def textured_image(seed=0, width=W_IMG, height=H_IMG):
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (height // 8, width // 8, 3), dtype=np.uint8)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)


def test_sampled_parameters_follow_the_original_distributions():
    rng = np.random.default_rng(0)
    cfg = AugmentConfig()
    augs = [sample_augmentation(rng, cfg, BBOX, W_IMG, H_IMG) for _ in range(4000)]
    scales = np.array([a.scale for a in augs])
    rotations = np.array([a.rotation for a in augs])
    assert scales.min() >= 0.75
    assert scales.max() <= 1.25
    assert np.abs(rotations).max() <= 60
    assert np.mean(rotations != 0) == pytest.approx(0.6, abs=0.03)
    assert np.mean([a.flip for a in augs]) == pytest.approx(0.5, abs=0.03)
    assert np.mean([a.occlusion is not None for a in augs]) == pytest.approx(0.5, abs=0.03)
    gains = np.array([a.color for a in augs])
    assert gains.min() >= 0.8
    assert gains.max() <= 1.2
    # clipped normal: P(|N| >= 1) ~ 0.317 of scales sit on the bounds
    assert np.mean(np.isclose(np.abs(scales - 1), 0.25)) == pytest.approx(0.317, abs=0.03)


def test_occlusion_rectangle_lies_in_the_box_and_the_image():
    rng = np.random.default_rng(1)
    for _ in range(500):
        x, y, w, h = occlusion_rect(rng, BBOX, W_IMG, H_IMG, AugmentConfig())
        # inside the image, at most 70 % of the box area, and overlapping the box (it may stick out of the
        # box when its sampled height or width exceeds the box's, as in the original)
        assert x >= 0
        assert y >= 0
        assert x + w < W_IMG
        assert y + h < H_IMG
        assert w * h <= 0.7 * BBOX[2] * BBOX[3]
        assert x < BBOX[0] + BBOX[2]
        assert y < BBOX[1] + BBOX[3]
        assert x + w > BBOX[0]
        assert y + h > BBOX[1]
    # a box far outside the image gives up instead of looping forever (the original would hang)
    assert occlusion_rect(rng, np.array([5000.0, 5000, 100, 100]), W_IMG, H_IMG, AugmentConfig()) is None


@pytest.mark.parametrize("rotation", [0.0, 25.0])
def test_folded_flip_equals_flip_then_crop(rotation):
    image = textured_image()
    aug = Augmentation(scale=1.1, rotation=rotation, flip=True)
    folded = warp_patch(image, sample_crop_affine(BBOX, W_IMG, aug, 256), 256)
    mirrored = image[:, ::-1].copy()
    cx, cy = BBOX[0] + BBOX[2] / 2, BBOX[1] + BBOX[3] / 2
    original = cv2.warpAffine(
        mirrored,
        crop_affine((W_IMG - cx - 1, cy), BBOX[2:], (256, 256), 1.1, rotation),
        (256, 256),
        flags=cv2.INTER_LINEAR,
    )
    assert np.abs(folded.astype(int) - original.astype(int)).max() <= 1


@pytest.mark.parametrize("reduce", [2, 4])
def test_reduced_decoding_keeps_the_geometry(reduce):
    big = textured_image(2, 1280, 960)
    bbox = np.array([300.0, 100.0, 640.0, 640.0]) * 1.4  # source window >= reduce * 256
    aug = Augmentation(scale=1.2, rotation=20.0, flip=True)
    affine = sample_crop_affine(bbox, 1280, aug, 256)
    full = warp_patch(big, affine, 256).astype(float)
    small = cv2.resize(big, (1280 // reduce, 960 // reduce), interpolation=cv2.INTER_AREA)
    reduced = warp_patch(small, affine, 256, reduce).astype(float)

    # the same content in the same place: correlation is high and no shift improves it
    def corr(a, b):
        return np.corrcoef(a.ravel(), b.ravel())[0, 1]

    base = corr(full, reduced)
    assert base > 0.9
    for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        assert corr(full, np.roll(reduced, (dy, dx), axis=(0, 1))) < base


def test_decode_reduction_only_when_pixels_suffice():
    aug = Augmentation(scale=1.0)
    assert decode_reduction(np.array([0, 0, 300.0, 300.0]), aug, 256) == 1
    assert decode_reduction(np.array([0, 0, 600.0, 600.0]), aug, 256) == 2
    assert decode_reduction(np.array([0, 0, 1100.0, 1100.0]), aug, 256) == 4
    assert decode_reduction(np.array([0, 0, 600.0, 600.0]), Augmentation(scale=0.8), 256) == 1


def test_targets_voxel_units_and_masks():
    joints = np.zeros((18, 3))
    joints[:, 0] = BBOX[0] + BBOX[2] / 2  # all at the box centre -> patch centre
    joints[:, 1] = BBOX[1] + BBOX[3] / 2
    joints[1] = [BBOX[0] + 1, BBOX[1] + 1, 0]  # near the top-left patch corner
    joints[2, 2] = 999.0  # just inside the depth range
    joints[3, 2] = 1000.0  # at +1000 mm: outside (z_norm < 1 is required)
    joints[4, 0] = 10000.0  # outside the patch
    vis = np.ones(18)
    affine = sample_crop_affine(BBOX, W_IMG, Augmentation(), 256)
    voxel, out_vis = build_targets(
        joints, vis, affine, flip_perm=None, heatmap_size=(32, 32), depth_bins=32, patch_size=256
    )
    assert np.allclose(voxel[0], [16, 16, 16])
    assert np.allclose(voxel[2, 2], (999 / 1000 + 1) / 2 * 32)
    assert out_vis[2] == 1
    assert out_vis[3] == 0
    assert out_vis[4] == 0
    assert out_vis[0] == 1
    assert np.allclose(voxel[1, :2], apply_affine(joints[1:2, :2], affine)[0] / 8)


def test_flipped_targets_swap_left_and_right():
    joints = np.zeros((18, 3))
    joints[:, 0], joints[:, 1] = 330.0, 210.0
    joints[H36M.index("L_Wrist"), 0] = 250.0  # left wrist left of centre in the image
    aug = Augmentation(flip=True)
    affine = sample_crop_affine(BBOX, W_IMG, aug, 256)
    voxel, _ = build_targets(
        joints,
        np.ones(18),
        affine,
        flip_perm=H36M.flip_permutation(),
        heatmap_size=(32, 32),
        depth_bins=32,
        patch_size=256,
    )
    # after the mirror, the point that was the left wrist is on the right, and is now labelled R_Wrist
    assert voxel[H36M.index("R_Wrist"), 0] > voxel[H36M.index("Pelvis"), 0]
    assert voxel[H36M.index("L_Wrist"), 0] == pytest.approx(voxel[H36M.index("Pelvis"), 0])


def test_network_input_normalisation():
    patch = np.zeros((4, 4, 3), np.uint8)
    patch[..., 2] = 200  # red in BGR
    legacy = to_network_input(patch, (1.5, 1.0, 1.0), "legacy")
    assert legacy.shape == (3, 4, 4)
    assert legacy.dtype == np.float32
    assert legacy[0, 0, 0] == pytest.approx((255 - 0.485) / 0.229)  # 200 * 1.5 clipped to 255, 0-255 scale
    unit = to_network_input(patch, (1.0, 1.0, 1.0), "unit")
    assert unit[0, 0, 0] == pytest.approx((200 / 255 - 0.485) / 0.229, rel=1e-5)
    assert unit[1, 0, 0] == pytest.approx(-0.456 / 0.224, rel=1e-5)


@pytest.mark.parametrize("normalization", ["legacy", "unit"])
@pytest.mark.parametrize("color", [(1.0, 1.0, 1.0), (1.2, 0.8, 1.05)])
def test_fused_normalisation_equals_the_original_order(normalization, color):
    """BGR->RGB, float, gains, clip to [0, 255], then (x * scale - mean) / std, as the original does it."""
    patch = np.random.default_rng(0).integers(0, 256, (64, 48, 3), dtype=np.uint8)
    rgb = np.clip(patch[:, :, ::-1].astype(np.float32) * np.asarray(color, np.float32), 0, 255)
    scale = 1.0 if normalization == "legacy" else 1 / 255
    mean, std = np.array([0.485, 0.456, 0.406], np.float32), np.array([0.229, 0.224, 0.225], np.float32)
    expected = ((rgb * scale - mean) / std).transpose(2, 0, 1)
    assert np.allclose(to_network_input(patch, color, normalization), expected, rtol=1e-6, atol=1e-5)
