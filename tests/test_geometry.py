"""Box, crop, camera and unit conversions against the test vectors of reference §5, §6.1, §6.3, §9.1, §9.6."""

import math

import numpy as np
import pytest

from mhp import geometry as g

DEMO_W, DEMO_H = 640, 392  # demo/input.jpg
DEMO_BOXES = [
    ([139.41, 102.25, 222.39, 241.57], [99.749, 72.179, 300.712, 300.712]),
    ([287.17, 61.52, 74.88, 165.61], [221.229, 40.944, 205.763, 205.763]),
    ([540.04, 48.81, 99.96, 223.36], [450.545, 21.015, 277.95, 277.95]),
    ([372.58, 170.84, 266.63, 217.19], [339.376, 112.916, 332.038, 332.038]),
    ([0.5, 43.74, 90.1, 220.09], [-91.881, 16.354, 273.862, 273.862]),
]


@pytest.mark.parametrize(("box", "expected"), DEMO_BOXES)
def test_process_bbox_spec_vectors(box, expected):
    assert np.allclose(g.process_bbox(box, DEMO_W, DEMO_H), expected, atol=1e-3)


def test_process_bbox_rejects_empty_and_outside_boxes():
    assert g.process_bbox([10, 10, 0, 50], DEMO_W, DEMO_H) is None
    assert g.process_bbox([700, 10, 50, 50], DEMO_W, DEMO_H) is None
    wide = g.process_bbox([0, 0, 201, 101], DEMO_W, DEMO_H, aspect_ratio=1.0)
    assert wide[2] == wide[3] == pytest.approx(200 * 1.25)


def test_crop_affine_spec_vector():
    affine = g.bbox_crop_affine([99.749, 72.179, 300.712, 300.712])
    assert np.allclose(affine, [[0.85131, 0, -84.91725], [0, 0.85131, -61.4466]], atol=1e-4)


def test_crop_affine_maps_the_three_anchor_points():
    center, size, scale, rot = (300.0, 200.0), (120.0, 160.0), 1.2, 30.0
    affine = g.crop_affine(center, size, (256, 256), scale, rot)
    a = math.radians(rot)
    down = np.array([-math.sin(a), math.cos(a)]) * size[1] * scale / 2
    right = np.array([math.cos(a), math.sin(a)]) * size[0] * scale / 2
    src = np.array([center, np.add(center, down), np.add(center, right)])
    assert np.allclose(g.apply_affine(src, affine), [[128, 128], [128, 256], [256, 128]])


def test_affine_inverse_round_trip_batched():
    rng = np.random.default_rng(0)
    affines = np.stack([g.crop_affine(rng.uniform(100, 500, 2), (200, 260), (256, 256), 1.1, r) for r in (-45, 0, 60)])
    points = rng.uniform(0, 640, (3, 17, 3))
    back = g.apply_affine(g.apply_affine(points, affines), g.invert_affine(affines))
    assert np.allclose(back, points)
    assert np.array_equal(g.apply_affine(points, affines)[..., 2], points[..., 2])  # depth passes through


def test_camera_projection_round_trip():
    rng = np.random.default_rng(1)
    cam = rng.uniform([-800, -800, 3000], [800, 800, 7000], (5, 18, 3))
    f, c = np.array([1145.0, 1144.0]), np.array([512.5, 515.4])
    img = g.cam2pixel(cam, f, c)
    assert np.allclose(g.pixel2cam(img, f, c), cam)
    assert np.allclose(img[..., 0], cam[..., 0] / cam[..., 2] * f[0] + c[0], atol=1e-6)


def test_world_to_camera_is_r_x_plus_t():
    a = math.radians(30)
    rot = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
    t = np.array([10.0, -20.0, 5000.0])
    x = np.array([[100.0, 0.0, 0.0]])
    assert np.allclose(g.world_to_camera(x, rot, t), [[100 * math.cos(a) + 10, 100 * math.sin(a) - 20, 5000]])


def test_voxel_patch_units():
    # x, y: pure scaling (no half-pixel offset); z: bins to root-relative mm, root +- 1000 mm
    v = np.array([[0.0, 16.0, 0.0], [31.0, 8.0, 16.0], [16.0, 0.0, 32.0]])
    p = g.voxel_to_patch(v, (32, 32), 32)
    assert np.allclose(p, [[0, 128, -1000], [248, 64, 0], [128, 0, 1000]])
    assert np.allclose(g.patch_to_voxel(p, (32, 32), 32), v)
    assert np.allclose(g.voxel_to_patch([[0, 0, 1]], (64, 64), 64)[0, 2] + 1000, 31.25)  # one bin at D=64


def test_voxel_to_camera_matches_the_evaluation_formula():
    """Reference §10.2: x_img = x/W*bw + bx, Z = (z/D*2-1)*1000 + Z_root, then pixel2cam (rotation 0, scale 1)."""
    bbox = np.array([99.749, 72.179, 300.712, 300.712])
    rng = np.random.default_rng(2)
    vox = rng.uniform(0, 31, (18, 3))
    f, c, root_z = np.array([1500.0, 1500.0]), np.array([320.0, 196.0]), 11250.57
    cam = g.voxel_to_camera(
        vox,
        crop=g.bbox_crop_affine(bbox),
        root_depth_mm=root_z,
        focal=f,
        principal=c,
        heatmap_size=(32, 32),
        depth_bins=32,
    )
    x_img = vox[:, 0] / 32 * bbox[2] + bbox[0]
    y_img = vox[:, 1] / 32 * bbox[3] + bbox[1]
    z = (vox[:, 2] / 32 * 2 - 1) * 1000 + root_z
    assert np.allclose(cam, g.pixel2cam(np.stack([x_img, y_img, z], 1), f, c))


def test_voxel_to_camera_per_sample_crops_and_roots():
    crops = np.stack([g.bbox_crop_affine([0, 0, 256, 256]), g.bbox_crop_affine([100, 50, 512, 512])])
    vox = np.zeros((2, 1, 3))
    cam = g.voxel_to_camera(
        vox,
        crop=crops,
        root_depth_mm=np.array([5000.0, 6000.0]),
        focal=np.array([1000.0, 1000.0]),
        principal=np.array([0.0, 0.0]),
        heatmap_size=(32, 32),
        depth_bins=32,
    )
    assert np.allclose(cam[:, 0], [[0, 0, 4000], [100 / 1000 * 5000, 50 / 1000 * 5000, 5000]])


def test_root_depth_k_value_for_the_first_demo_box():
    box = g.process_bbox(DEMO_BOXES[0][0], DEMO_W, DEMO_H)
    assert g.root_depth_from_bbox(box, (1500.0, 1500.0)) == pytest.approx(9976.3, abs=0.1)


def test_similarity_align_recovers_a_similarity_transform():
    rng = np.random.default_rng(3)
    gt = rng.normal(size=(4, 17, 3)) * 300
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.linalg.det(q))  # proper rotation
    pred = 0.7 * gt @ q + np.array([50.0, -20.0, 900.0])
    assert np.allclose(g.similarity_align(pred, gt), gt, atol=1e-8)
    rigid = g.similarity_align(pred, gt, scale=False)
    assert not np.allclose(rigid, gt, atol=1.0)  # scale cannot be undone rigidly
    assert np.allclose(g.similarity_align(gt @ q + 3.0, gt, scale=False), gt, atol=1e-8)


def test_similarity_align_never_reflects():
    rng = np.random.default_rng(4)
    gt = rng.normal(size=(1, 17, 3))
    mirrored = gt * np.array([-1.0, 1.0, 1.0])
    aligned = g.similarity_align(mirrored, gt)
    assert not np.allclose(aligned, gt, atol=1e-3)

    # the applied map is a proper rotation: the aligned pose keeps mirrored's handedness
    def volume(p):
        return np.linalg.det(p[0, 1:4] - p[0, 0])

    assert np.sign(volume(aligned)) == np.sign(volume(mirrored))
