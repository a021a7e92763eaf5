"""Lifter training (``mhp-train --task lift``): both supervisions run, learn, save, resume exactly; errors are clear."""

import csv
import os
import subprocess
import sys

import pytest
import torch

import mhp
from mhp.cli.train import main, parse_config
from mhp.config import TrainConfig
from mhp.data.io import DatasetError
from mhp.errors import MhpError
from mhp.limbs import path_length_mm
from mhp.skeleton import H36M, MPII
from mhp.train.lift_data import build_lift_data, lift_entries
from mhp.train.lift_loop import build_lifter, pose_l2, train_lift
from tests.train.test_ddp import LOOPBACK, free_port, needs_loopback

pytestmark = pytest.mark.slow


def tiny(tmp_path, **overrides) -> TrainConfig:
    values = dict(
        task="lift",
        out=str(tmp_path / "run"),
        lift_width=64,
        lift_dropout=0.0,
        synthetic_samples=1024,
        synthetic_val_samples=200,
        batch_size=64,
        epochs=3,
        lr_decay_epochs=(100,),
        device="cpu",
        log_every=4,
    )
    return TrainConfig(**{**values, **overrides})


def test_pose_loss_ignores_masked_joints():
    pred, target = torch.zeros(2, 3, 3), torch.zeros(2, 3, 3)
    target[:, 2] = 100.0  # only the masked joint is wrong
    visible = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0]])
    assert pose_l2(pred, target, visible) == 0
    assert pose_l2(pred, target, torch.ones(2, 3)) == pytest.approx(3 * 100.0**2 / 3)


def test_supervised_lifter_learns_and_beats_the_mean_pose(tmp_path, capsys):
    cfg = tiny(
        tmp_path, epochs=5, synthetic_samples=2048, batch_size=32, log_every=16, lift_width=128, lr=3e-3, amp=True
    )
    summary = train_lift(cfg)
    err = capsys.readouterr().err
    assert "2D/3D pairs: 2048 poses per epoch" in err
    assert "--amp: lifters train in float32" in err
    baseline = float(err.split("mean-pose baseline on validation: mpjpe ")[1].split(" mm")[0])
    assert summary["best_val_metric"] == "mpjpe"
    assert summary["best_val_mpjpe_mm"] < 0.8 * baseline, (summary, baseline)
    model = mhp.load_checkpoint(tmp_path / "run" / "best.pt")
    assert (model.model_name, model.output, model.unit_mm) == ("LIFT_MLP", "xyz", 1000.0)
    with open(tmp_path / "run" / "log.csv") as f:
        rows = list(csv.DictReader(f))
    assert sum(bool(r["val_mpjpe_mm"]) for r in rows) == 5
    assert all(float(r["poses_per_s"]) > 0 for r in rows if r["loss"])


@pytest.mark.parametrize("stop", ["epoch", "mid-epoch"])
def test_unsupervised_lifter_keeps_its_critic_and_resumes_exactly(tmp_path, stop):
    straight = train_lift(tiny(tmp_path, supervision="2d", epochs=2, out=str(tmp_path / "straight")))
    first = {"epochs": 1} if stop == "epoch" else {"epochs": 2, "time_limit_min": 1e-9}  # stops after one step
    stopped = train_lift(tiny(tmp_path, supervision="2d", out=str(tmp_path / "split"), **first))
    assert stopped["stopped"] == ("completed" if stop == "epoch" else "time limit of 1e-09 min reached")
    resumed = train_lift(tiny(tmp_path, supervision="2d", epochs=2, out=str(tmp_path / "split"), resume="auto"))
    assert resumed["epochs"] == straight["epochs"] == 2
    content = torch.load(tmp_path / "split" / "last.pt", weights_only=True)
    reference = torch.load(tmp_path / "straight" / "last.pt", weights_only=True)
    assert {"critic", "critic_optimizer"} <= set(content)
    assert content["model_kwargs"]["output"] == "depth"
    assert content["train_state"]["global_step"] == reference["train_state"]["global_step"]
    for part in ("state_dict", "critic"):
        for key, value in content[part].items():
            torch.testing.assert_close(value, reference[part][key], rtol=1e-4, atol=1e-5)


def test_depth_lifter_unit_comes_from_the_limb_prior(tmp_path):
    cfg = tiny(tmp_path, supervision="2d")
    data = build_lift_data(cfg)
    model = build_lifter(cfg, data)
    assert "synthetic body-model poses" in data.prior.source  # 3D of the training data is not used
    assert model.unit_mm == pytest.approx(path_length_mm(data.prior, H36M, 0, 10), abs=1e-3)
    assert data.train.joints_3d is None


def test_lift_options_and_data_are_checked(tmp_path):
    with pytest.raises(MhpError, match="--supervision must be one of"):
        parse_config(["--task", "lift", "--supervision", "none"])
    with pytest.raises(DatasetError, match="--supervision 2d"):
        lift_entries(tiny(tmp_path, data_2d=("synthetic",)))
    with pytest.raises(MhpError, match="is an image model"):
        build_lifter(tiny(tmp_path, backbone="LPWO"), build_lift_data(tiny(tmp_path)))
    with pytest.raises(MhpError, match="--width-mult applies to image models"):
        build_lifter(tiny(tmp_path, width_mult=0.5), build_lift_data(tiny(tmp_path)))
    assert main(["--task", "lift", "--out", str(tmp_path / "x"), "--limb-prior", str(tmp_path / "none.json")]) != 0


def test_a_lifter_trains_on_any_joint_set(tmp_path):
    data = build_lift_data(tiny(tmp_path, joint_set="MPII", supervision="2d"))
    assert data.joint_set is MPII
    assert data.train.joints_2d.shape[1:] == (16, 2)
    assert data.val.joints_3d.shape[1:] == (16, 3)


@needs_loopback
def test_torchrun_trains_the_unsupervised_lifter_on_two_processes(tmp_path):
    flags = ["--task", "lift", "--supervision", "2d", "--lift-width", "32", "--synthetic-samples", "512",
             "--synthetic-val-samples", "50", "--batch-size", "32", "--epochs", "2", "--device", "cpu",
             "--log-every", "4", "--out", str(tmp_path)]  # fmt: skip
    launch = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
              "--master-port", str(free_port()), "-m", "mhp.cli.train", *flags]  # fmt: skip
    result = subprocess.run(launch, capture_output=True, text=True, timeout=600, env={**os.environ, **LOOPBACK})
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr.count("2D poses only (3D never seen): 512 poses per epoch") == 1  # rank 0 alone reports
    assert result.stderr.count("/2: val MPJPE") == 2
    content = torch.load(tmp_path / "last.pt", weights_only=True)
    assert content["train_state"]["global_step"] == 2 * 8  # 512 poses / (2 x 32) per step
    assert {"critic", "critic_optimizer"} <= set(content)
