"""``--weight-limb``: the limb-prior loss in image-model training, its default prior and its errors."""

import csv
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mhp.data.synthetic import SyntheticHumans
from mhp.errors import MhpError
from mhp.limbs import bone_lengths, limb_prior, write_limb_prior
from mhp.skeleton import H36M, MUCO
from mhp.train import loop
from mhp.train.data import training_poses
from mhp.train.loss import LimbPriorLoss

FAST = {"epochs": 1, "synthetic_samples": 16, "synthetic_val_samples": 2, "max_steps_per_epoch": 2}


def test_default_prior_is_measured_on_the_3d_training_poses(tiny_config):
    sources = [SyntheticHumans(30, joint_set=H36M, seed=0, image_size=(128, 128))]
    prior = loop.training_limb_prior(tiny_config(), sources, H36M)
    lengths = bone_lengths(training_poses(sources, H36M).numpy(), H36M.bones)
    assert prior.source == "the 3D training poses"
    assert prior.mean_mm == pytest.approx(lengths.mean(axis=0), rel=1e-5)
    assert prior.std_mm == pytest.approx(lengths.std(axis=0, ddof=1), rel=1e-4)
    assert prior.samples == (30,) * len(H36M.bones)


def test_default_prior_skips_joints_the_training_set_lacks(tiny_config):
    sources = [SyntheticHumans(10, joint_set=H36M, seed=0, image_size=(128, 128))]  # no Head_top, hands, toes
    with pytest.raises(MhpError, match=r"--weight-limb: the bone .* is visible in 0 pose\(s\).*--limb-prior FILE"):
        loop.training_limb_prior(tiny_config(), sources, MUCO)


def test_a_run_with_weight_limb_logs_the_loss_and_passes_the_depth_mask(tiny_config, monkeypatch, capsys):
    masks = []

    class Recording(LimbPriorLoss):
        def forward(self, joints_mm, vis, use=None):
            masks.append(use)
            return super().forward(joints_mm, vis, use)

    monkeypatch.setattr(loop, "LimbPriorLoss", Recording)
    cfg = tiny_config(**FAST, weight_limb=1.0, data_2d=("synthetic",))
    loop.train(cfg)
    err = capsys.readouterr().err
    assert "limb prior (--weight-limb 1, samples with depth): the 3D training poses" in err
    assert masks
    assert all(m is not None and m.shape == (8, 1) for m in masks)
    assert {float(v) for m in masks for v in m.flatten()} == {0.0, 1.0}  # 3D and 2D samples mixed, told apart
    with open(Path(cfg.out) / "log.csv") as f:
        steps = [r for r in csv.DictReader(f) if r["loss"]]
    assert len(steps) == len(masks)
    limb = [float(r["loss_limb"]) for r in steps]
    assert all(np.isfinite(limb))
    assert max(limb) > 0
    assert all(float(r["loss_geo"]) == 0.0 for r in steps)


def test_a_prior_file_for_another_joint_set_is_refused(tiny_config, tmp_path):
    poses = np.random.default_rng(0).normal(size=(4, MUCO.num_joints, 3)) * 300
    path = write_limb_prior(tmp_path / "muco.json", limb_prior(poses, MUCO))
    with pytest.raises(MhpError, match=r"--limb-prior .*muco.json is for the MUCO set but the model predicts H36M"):
        loop.train(tiny_config(**FAST, weight_limb=1.0, limb_prior=str(path)))


def test_a_prior_file_is_used_as_given(tiny_config, tmp_path, capsys):
    sources = [SyntheticHumans(8, joint_set=H36M, seed=3, image_size=(128, 128))]
    prior = replace(limb_prior(training_poses(sources, H36M).numpy(), H36M), source="a file")
    path = write_limb_prior(tmp_path / "h36m.json", prior)
    assert loop.training_limb_prior(tiny_config(limb_prior=str(path)), [], H36M) == prior


def test_the_geometric_loss_joins_at_geo_from_epoch(tiny_config):
    cfg = tiny_config(**{**FAST, "epochs": 2}, weight_geo=1.0, geo_from_epoch=1, data_2d=("synthetic",))
    loop.train(cfg)
    with open(Path(cfg.out) / "log.csv") as f:
        steps = [r for r in csv.DictReader(f) if r["loss"]]
    geo = [float(r["loss_geo"]) for r in steps]
    assert len(geo) == 4
    assert geo[:2] == [0.0, 0.0]  # Zhou et al.'s last stage: not in the first epoch
    assert all(np.isfinite(geo[2:]))
    assert min(geo[2:]) > 0
