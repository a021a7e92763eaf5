"""Metrics on constructed cases."""

import numpy as np
import pytest

from mhp import metrics as m
from mhp.errors import MhpError


def random_poses(seed=0, n=8, j=17):
    return np.random.default_rng(seed).normal(size=(n, j, 3)) * 250


def random_rotation(rng):
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    return q * np.sign(np.linalg.det(q))


def test_mpjpe_of_a_constant_offset():
    gt = random_poses()
    assert m.mpjpe(gt + np.array([3.0, 4.0, 0.0]), gt) == pytest.approx(5.0)
    assert m.mpjpe(gt, gt) == 0.0


def test_known_rotation_scale_translation_gives_zero_pa_mpjpe():
    rng = np.random.default_rng(1)
    gt = random_poses(1)
    pred = np.stack([1.3 * p @ random_rotation(rng) + rng.normal(size=3) * 100 for p in gt])
    assert m.pa_mpjpe(pred, gt) == pytest.approx(0.0, abs=1e-8)
    assert m.mpjpe(pred, gt) > 100
    assert m.rigid_mpjpe(pred, gt) > 1.0  # rigid alignment cannot remove the scale


def test_rigid_alignment_removes_rotation_and_translation_only():
    rng = np.random.default_rng(2)
    gt = random_poses(2)
    pred = np.stack([p @ random_rotation(rng) + 40.0 for p in gt])
    assert m.rigid_mpjpe(pred, gt) == pytest.approx(0.0, abs=1e-8)
    noisy = gt + rng.normal(size=gt.shape) * 10
    assert m.pa_mpjpe(noisy, gt) <= m.rigid_mpjpe(noisy, gt) <= m.mpjpe(noisy, gt)


def test_root_relative():
    gt = random_poses(3)
    rel = m.root_relative(gt, root=0)
    assert np.allclose(rel[:, 0], 0)
    assert np.allclose(rel[:, 1] - rel[:, 2], gt[:, 1] - gt[:, 2])


def test_pck_and_auc():
    gt = np.zeros((1, 4, 3))
    pred = gt.copy()
    pred[0, :, 0] = [0.0, 100.0, 149.0, 151.0]
    assert m.pck3d(pred, gt) == 75.0
    assert m.pck3d(pred, gt, threshold=100.0) == 25.0
    # AUC: mean over thresholds 0,5,...,150 of the fraction below each (strict <)
    expected = np.mean([np.mean(np.array([0, 100, 149, 151]) < t) for t in range(0, 151, 5)]) * 100
    assert m.auc(pred, gt) == pytest.approx(expected)
    assert m.auc(gt, gt) == pytest.approx(100 * 30 / 31)  # nothing is below a 0 mm threshold


def test_per_group_mean_keeps_first_seen_order():
    values = np.array([1.0, 2.0, 3.0, 5.0])
    assert m.per_group_mean(values, ["Walk", "Eat", "Walk", "Eat"]) == {"Walk": 2.0, "Eat": 3.5}
    with pytest.raises(MhpError, match="4 values but 3 group labels"):
        m.per_group_mean(values, ["a", "b", "c"])


def test_bad_inputs_are_refused():
    with pytest.raises(MhpError, match="one shape"):
        m.mpjpe(np.zeros((2, 17, 3)), np.zeros((2, 18, 3)))
    bad = np.zeros((1, 17, 3))
    bad[0, 0, 0] = np.nan
    with pytest.raises(MhpError, match="NaN"):
        m.pa_mpjpe(bad, np.zeros((1, 17, 3)))
