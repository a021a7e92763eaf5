"""Losses and the learning-rate schedule (reference §7)."""

from dataclasses import replace

import pytest
import torch

from mhp.config import TrainConfig
from mhp.errors import MhpError
from mhp.limbs import limb_prior
from mhp.skeleton import H36M, MUCO
from mhp.train.loss import BoneRatioLoss, LimbPriorLoss, canonical_bone_lengths, geo_bones, integral_l1_loss
from mhp.train.run import lr_at


def test_l1_loss_masks_invisible_joints_and_2d_depth():
    target = torch.zeros(2, 3, 3)
    pred = torch.ones(2, 3, 3) * torch.tensor([1.0, 2.0, 3.0])  # |dx| 1, |dy| 2, |dz| 3 everywhere
    vis = torch.ones(2, 3, 1)
    has_depth = torch.tensor([[1.0], [0.0]])  # the second sample is 2D-only
    loss = integral_l1_loss(pred, target, vis, has_depth)
    # sample 1: (1 + 2 + 3) / 3 = 2 per joint; sample 2 (no depth term): (1 + 2) / 3 = 1 per joint
    assert loss.item() == pytest.approx((2.0 + 1.0) / 2)
    vis[0, 0] = 0.0  # an invisible joint adds nothing but still counts in the mean (reference Q8)
    assert integral_l1_loss(pred, target, vis, has_depth).item() == pytest.approx((2.0 * 2 + 1.0 * 3) / 6)


def test_l1_loss_gradient_has_no_depth_component_for_2d_samples():
    pred = torch.randn(1, 18, 3, requires_grad=True)
    integral_l1_loss(pred, torch.zeros(1, 18, 3), torch.ones(1, 18, 1), torch.zeros(1, 1)).backward()
    assert torch.all(pred.grad[..., 2] == 0)
    assert torch.all(pred.grad[..., :2] != 0)


def test_lr_schedule_of_the_original():
    cfg = TrainConfig()
    lrs = [lr_at(e, cfg) for e in range(25)]
    assert lrs[:17] == [1e-3] * 17
    assert lrs[17:21] == pytest.approx([1e-4] * 4)
    assert lrs[21:] == pytest.approx([1e-5] * 4)


def canonical_pose():
    pose = torch.zeros(18, 3)
    names = {
        "Pelvis": (0, 0, 0),
        "L_Hip": (100, 0, 0),
        "R_Hip": (-100, 0, 0),
        "L_Knee": (100, 400, 0),
        "R_Knee": (-100, 400, 0),
        "L_Ankle": (100, 800, 0),
        "R_Ankle": (-100, 800, 0),
        "Thorax": (0, -500, 0),
        "L_Shoulder": (150, -500, 0),
        "R_Shoulder": (-150, -500, 0),
        "L_Elbow": (150, -200, 0),
        "R_Elbow": (-150, -200, 0),
        "L_Wrist": (150, 50, 0),
        "R_Wrist": (-150, 50, 0),
    }
    for name, xyz in names.items():
        pose[H36M.index(name)] = torch.tensor(xyz, dtype=torch.float32)
    return pose


def test_bone_ratio_loss():
    pose = canonical_pose()
    lengths = canonical_bone_lengths(pose[None], 18)
    assert [len(g) for g in geo_bones(H36M)] == [4, 4, 2, 2]
    loss = BoneRatioLoss(H36M, lengths)
    vis = torch.ones(1, 18, 1)
    counts = torch.ones(1)
    assert loss(pose[None], vis, counts).item() == pytest.approx(0.0, abs=1e-10)
    assert loss((pose * 1.7)[None], vis, counts).item() == pytest.approx(0.0, abs=1e-10)  # uniform scale is fine
    stretched = pose.clone()
    stretched[H36M.index("L_Wrist"), 2] += 500.0  # the left forearm gets 500 mm of depth
    assert loss(stretched[None], vis, counts).item() > 0.01
    assert loss(stretched[None], vis, torch.zeros(1)).item() == 0.0  # samples left out add nothing


def test_limb_prior_loss_penalises_only_bones_outside_two_sigma_and_only_visible_ones():
    pose = canonical_pose()
    prior = limb_prior(pose[None].numpy().repeat(3, axis=0), H36M)  # every bone: its canonical length, std 0
    prior = replace(prior, std_mm=(10.0,) * len(prior.bones))
    loss = LimbPriorLoss(H36M, prior)
    vis = torch.ones(1, 18, 1)
    assert loss(pose[None], vis).item() == pytest.approx(0.0, abs=1e-5)
    forearm = H36M.bones.index((12, 13))
    shifted = pose[None].clone()
    shifted[0, 13, 1] += 62.5  # the left wrist 62.5 mm lower along the (vertical) forearm: 250 -> 312.5 mm
    length = float((pose[13] + torch.tensor([0, 62.5, 0]) - pose[12]).norm())
    excess = (length - prior.mean_mm[forearm] - 20.0) / 10.0
    assert excess == pytest.approx(4.25)  # (62.5 mm - 2 std) / std
    assert loss(shifted, vis).item() == pytest.approx(excess / len(prior.bones), rel=1e-3)
    hidden = vis.clone()
    hidden[0, 13] = 0  # the wrist is not visible: its bone is masked out and the mean is over 15 bones
    assert loss(shifted, hidden).item() == pytest.approx(0.0, abs=1e-5)
    assert loss(shifted, torch.zeros(1, 18, 1)).item() == 0.0
    with pytest.raises(MhpError, match="limb prior is for the H36M set"):
        LimbPriorLoss(MUCO, prior)


def test_limb_prior_loss_leaves_out_samples_without_depth():
    pose = canonical_pose()
    prior = replace(limb_prior(pose[None].numpy().repeat(3, axis=0), H36M), std_mm=(10.0,) * len(H36M.bones))
    loss = LimbPriorLoss(H36M, prior)
    stretched = pose[None].clone()
    stretched[0, 13, 1] += 62.5  # the left forearm 62.5 mm too long: 4.25 std beyond 2 std
    batch = torch.cat([pose[None], stretched])  # sample 0 plausible, sample 1 stretched
    vis = torch.ones(2, 18, 1)
    per_bone = 4.25 / (2 * len(H36M.bones))
    assert loss(batch, vis).item() == pytest.approx(per_bone, rel=1e-3)  # no mask: both samples count
    assert loss(batch, vis, torch.tensor([[1.0], [1.0]])).item() == pytest.approx(per_bone, rel=1e-3)
    assert loss(batch, vis, torch.tensor([[1.0], [0.0]])).item() == pytest.approx(0.0, abs=1e-5)  # 2D-only: out
    # the mean is over the bones of samples with depth: one stretched sample of one counts in full
    assert loss(batch, vis, torch.tensor([[0.0], [1.0]])).item() == pytest.approx(2 * per_bone, rel=1e-3)
    assert loss(batch, vis, torch.zeros(2, 1)).item() == 0.0
