"""Evaluation protocols on constructed predictions (reference §10) and the flip test."""

import numpy as np
import pytest
import torch

from mhp.errors import MhpError
from mhp.eval.mupots import bone_tree, map_to_gt_bone_lengths, match_people, score_mupots
from mhp.eval.pose import flip_back, limb_scores, score_poses
from mhp.limbs import bone_lengths, limb_prior
from mhp.skeleton import H36M, MUCO, MUPOTS


def poses(seed, n=6):
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n, 18, 3)) * 200 + np.array([0, 0, 5000.0])
    return base


def rotation(deg):
    a = np.radians(deg)
    return np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])


def test_protocols_on_constructed_predictions():
    gt = poses(0)
    # a different root position does not matter: everything is root-relative
    shifted = gt + np.array([100.0, -50.0, 300.0])
    s = score_poses(shifted, gt, root=0, joints=list(range(17)), groups=["a"] * 6)
    assert s.summary() == pytest.approx({"mpjpe": 0.0, "pa_mpjpe": 0.0, "rigid_mpjpe": 0.0}, abs=1e-9)
    # a rotation about the root: MPJPE sees it, both alignments remove it
    rel = gt - gt[:, :1]
    rotated = rel @ rotation(20).T + gt[:, :1]
    s = score_poses(rotated, gt, root=0, joints=list(range(17)), groups=["a"] * 6).summary()
    assert s["mpjpe"] > 50
    assert s["rigid_mpjpe"] == pytest.approx(0, abs=1e-6)
    assert s["pa_mpjpe"] == pytest.approx(0, abs=1e-6)
    # a scaled pose: only the similarity alignment removes it (3DMPPE's "PA" is rigid: it does not)
    scaled = rel * 1.2 + gt[:, :1]
    s = score_poses(scaled, gt, root=0, joints=list(range(17)), groups=["a"] * 6).summary()
    assert s["pa_mpjpe"] == pytest.approx(0, abs=1e-6)
    assert s["rigid_mpjpe"] > 1.0


def test_thorax_is_aligned_but_not_scored():
    gt = poses(1)
    pred = gt.copy()
    pred[:, 17] += 500.0  # a wild Thorax
    s = score_poses(pred, gt, root=0, joints=list(range(17)), groups=["a"] * 6)
    assert s.mpjpe.shape == (6, 17)
    assert s.summary()["mpjpe"] == 0.0
    assert s.summary()["rigid_mpjpe"] > 0  # but it pulled the alignment, as in the original (all 18 joints)


def test_per_action_table():
    gt = poses(2)
    pred = gt.copy()
    pred[3:, 1] += np.array([30.0, 40.0, 0.0])  # one joint 50 mm off in the 'Walking' samples
    groups = ["Directions"] * 3 + ["Walking"] * 3
    table = score_poses(pred, gt, root=0, joints=list(range(17)), groups=groups).per_group()
    assert table["Directions"]["mpjpe"] == 0.0
    assert table["Walking"]["mpjpe"] == pytest.approx(50.0 / 17)


@pytest.mark.parametrize(("mode", "offset"), [("original", 31.0), ("corrected", 32 * 255 / 256)])
def test_flip_back(mode, offset):
    coords = torch.tensor([[[3.0, 5.0, 7.0], [10.0, 2.0, 1.0], [0.0, 0.0, 0.0]]])
    perm = torch.tensor([1, 0, 2])
    back = flip_back(coords, perm, width=32, patch_size=256, mode=mode)
    assert torch.allclose(back[0, 0], torch.tensor([offset - 10.0, 2.0, 1.0]))  # swapped with its pair
    assert torch.allclose(back[0, 2], torch.tensor([offset, 0.0, 0.0]))


def test_corrected_flip_is_the_exact_mirror_of_patch_columns():
    """A point at patch column p lies at S - 1 - p in the mirrored patch; voxel x = p * W / S."""
    width, size = 32, 256
    for p in (0.0, 37.5, 128.0, 255.0):
        mirrored_voxel = torch.tensor([[[(size - 1 - p) * width / size, 0.0, 0.0]]])
        back = flip_back(mirrored_voxel, torch.tensor([0]), width, size, "corrected")
        assert back[0, 0, 0].item() == pytest.approx(p * width / size)
        original = flip_back(mirrored_voxel, torch.tensor([0]), width, size, "original")
        assert original[0, 0, 0].item() - p * width / size == pytest.approx(width / size - 1)  # reference Q3's bias


def test_mupots_bone_rescaling_and_matching():
    tree = bone_tree(MUPOTS)
    assert len(tree) == 16
    assert tree[0][0] == MUPOTS.root
    rng = np.random.default_rng(3)
    gt = rng.normal(size=(17, 3)) * 200
    pred = (gt - gt[14]) * 1.3 + gt[14]  # right directions, bones 30 % too long
    assert np.allclose(map_to_gt_bone_lengths(pred, gt, tree), gt)
    gt_2d = rng.uniform(0, 500, (2, 17, 2))
    pred_2d = np.stack([gt_2d[1] + 5, gt_2d[0] + 3, gt_2d[0] + 300])
    assert match_people(pred_2d, gt_2d) == [1, 0]
    assert match_people(pred_2d[2:], gt_2d) == [-1, -1]  # too far for the 40 px threshold


def test_mupots_pck_over_all_and_matched_people():
    """Person 2 is predicted turned 180 degrees about the vertical through the root: its bones keep their lengths,
    so each joint's error is twice its horizontal distance from the root, computed here without mhp. (The test
    once added [0, 0, 0], so "matched PCK = 100" held for any scorer.) Mutation tried: centring the ground
    truth on its mean joint instead of its root fails it."""
    rng = np.random.default_rng(4)
    gt_cam = rng.normal(size=(3, 17, 3)) * 200 + np.array([0, 0, 4000.0])
    gt_img = rng.uniform(0, 600, (3, 17, 2))
    pred_cam = gt_cam[:2].copy()
    relative = gt_cam[1] - gt_cam[1, MUPOTS.root]
    pred_cam[1] = gt_cam[1, MUPOTS.root] + relative * np.array([-1.0, 1.0, -1.0])
    pred_img = gt_img[:2] + 1.0  # person 3 of image 0 has no prediction
    scores = score_mupots(pred_cam, pred_img, np.array([0, 0]), gt_cam, gt_img, np.array([0, 0, 0]), ["TS1"] * 3)
    assert scores.matched.tolist() == [True, True, False]
    turned_error = 2 * np.hypot(relative[:14, 0], relative[:14, 2])  # the 14 scored joints
    assert 0 < (turned_error < 150).sum() < 14  # some joints of the turned person are still right, not all
    correct = 14 + (turned_error < 150).sum()  # of the 28 joints of the two matched people
    all_gt, matched = scores.table(only_matched=False), scores.table(only_matched=True)
    assert matched["all"]["pck3d"] == pytest.approx(100.0 * correct / 28)
    assert all_gt["all"]["pck3d"] == pytest.approx(100.0 * correct / 42)  # the missed person counts as all-wrong
    assert all_gt["TS1"]["people"] == 3
    assert matched["TS1"]["people"] == 2
    assert 0 < matched["all"]["auc"] <= 100


def test_limb_scores_of_predictions_and_ground_truth():
    gt = poses(3, n=40)
    lengths = bone_lengths(gt, H36M.bones)
    deviation = np.abs(lengths - lengths.mean(axis=0))
    scores, source = limb_scores(gt + 10.0, gt, H36M, None)  # a shifted copy: the same bones
    assert source == "measured on the 40 ground-truth test poses"
    assert scores["gt_limb_within_2sigma"] == pytest.approx(np.mean(deviation <= 2 * lengths.std(axis=0, ddof=1)))
    assert scores["gt_limb_error_mm"] == pytest.approx(deviation.mean())
    assert scores["limb_within_2sigma"] == pytest.approx(scores["gt_limb_within_2sigma"])
    assert scores["limb_error_mm"] == pytest.approx(scores["gt_limb_error_mm"])
    assert scores["bone_length_error_mm"] == pytest.approx(0.0, abs=1e-9)  # ContextPose: |L_pred - L_gt|
    shrunk, _ = limb_scores((gt - gt[:, :1]) * 0.01, gt, H36M, None)  # every bone 99 % too short
    assert shrunk["bone_length_error_mm"] == pytest.approx(np.mean(lengths * 0.99))
    assert shrunk["limb_within_2sigma"] < 0.2
    assert shrunk["limb_error_mm"] == pytest.approx(np.mean(np.abs(lengths * 0.01 - lengths.mean(axis=0))))
    prior = limb_prior(poses(4, n=10), H36M, source="a file")
    given, source = limb_scores(gt, gt, H36M, prior)
    assert source == "a file"
    assert given["gt_limb_error_mm"] == pytest.approx(np.abs(lengths - np.array(prior.mean_mm)).mean())


def test_limb_scores_refuse_a_prior_of_another_set_and_too_few_poses():
    prior = limb_prior(np.random.default_rng(0).normal(size=(5, MUCO.num_joints, 3)), MUCO)
    with pytest.raises(MhpError, match="limb prior is for the MUCO set but these poses are scored as H36M"):
        limb_scores(poses(0), poses(0), H36M, prior)
    with pytest.raises(MhpError, match=r"limb plausibility: .*needs at least 2.*--limb-prior FILE"):
        limb_scores(poses(0, n=1), poses(0, n=1), H36M, None)
