"""``mhp-eval`` on lifter checkpoints: rows per input, baselines, the image model's 2D, the report text."""

import json

import numpy as np
import pytest
import torch

import mhp
from mhp.cli.eval import evaluate, format_report, main
from mhp.config import EvalConfig, TrainConfig
from mhp.data import read_dataset
from mhp.data.io import DatasetError
from mhp.data.synthetic import SyntheticHumans
from mhp.errors import MhpError
from mhp.eval.lift import scale_aligned, score_lifted
from mhp.eval.pose import run_synthetic
from mhp.models.checkpoint import save_checkpoint
from mhp.skeleton import H36M
from mhp.train.lift_data import build_lift_data
from mhp.train.lift_loop import train_lift

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lifter(tmp_path_factory):
    out = tmp_path_factory.mktemp("lifter")
    cfg = TrainConfig(
        task="lift", out=str(out), lift_width=128, lift_dropout=0.0, synthetic_samples=2048, lr=3e-3,
        synthetic_val_samples=100, batch_size=32, epochs=3, device="cpu",
    )  # fmt: skip
    return train_lift(cfg)["checkpoint"]


@pytest.fixture(scope="module")
def image_model(tmp_path_factory):
    torch.manual_seed(0)
    model = mhp.create_model("LPSKI", width_mult=0.25, embedding_size=64)
    path = tmp_path_factory.mktemp("image") / "image.pt"
    save_checkpoint(path, model, config={"seed": 0, "synthetic_image_size": 256})
    return str(path)


def test_scale_alignment_and_scores_are_exact_on_known_poses():
    gt = np.random.default_rng(0).normal(0, 100, (5, 18, 3))
    gt -= gt[:, :1]
    assert score_lifted(gt, gt, H36M) == pytest.approx({"mpjpe": 0, "n_mpjpe": 0, "pa_mpjpe": 0}, abs=1e-6)
    half = score_lifted(gt / 2, gt, H36M)  # half the size: only MPJPE sees it
    assert half["mpjpe"] > 10
    assert half["n_mpjpe"] == pytest.approx(0, abs=1e-6)
    np.testing.assert_allclose(scale_aligned(gt * 3, gt), gt, atol=1e-9)


def test_a_lifter_report_has_a_row_per_input_and_beats_the_mean_pose(lifter, image_model):
    cfg = EvalConfig(checkpoint=lifter, data="synthetic", synthetic_samples=24, device="cpu",
                     keypoints_from=image_model, synthetic_image_size=256)  # fmt: skip
    report = evaluate(cfg)
    rows = report["per_group"]
    assert list(rows) == [
        "lifter, ground-truth 2D",
        "lifter, LPSKI 2D",
        "LPSKI image model 3D",
        "mean-pose baseline",
        "zero-depth baseline",
    ]
    assert report["task"] == "lift"
    assert report["samples"] == 24
    assert rows["lifter, ground-truth 2D"]["mpjpe"] < rows["mean-pose baseline"]["mpjpe"]
    # the image model's own row is mhp-eval's image evaluation of the same scenes
    size = (256, 256)
    scenes = SyntheticHumans(24, joint_set=H36M, seed=cfg.synthetic_seed, image_size=size)
    own = run_synthetic(mhp.load_checkpoint(image_model), scenes, scenes, flip=None, device="cpu")
    assert rows["LPSKI image model 3D"]["mpjpe"] == pytest.approx(own["metrics"]["mpjpe"], rel=1e-4)
    text = format_report(report)
    assert "lifter, ground-truth 2D" in text
    assert "N-MPJPE" in text
    assert "average" not in text


def test_lifter_evaluation_errors_are_one_line(lifter, image_model, tmp_path, capsys):
    with pytest.raises(MhpError, match="not an image model"):
        evaluate(EvalConfig(checkpoint=lifter, data="synthetic", synthetic_samples=4, keypoints_from=lifter))
    with pytest.raises(MhpError, match="feeds a lifter"):
        evaluate(EvalConfig(checkpoint=image_model, data="synthetic", keypoints_from=lifter))
    with pytest.raises(MhpError, match="apply to image models"):
        evaluate(EvalConfig(checkpoint=lifter, data="synthetic", flip_test=True))
    out = tmp_path / "report.json"
    assert main(["--checkpoint", lifter, "--data", "synthetic", "--synthetic-samples", "8", "--json",
                 str(out)]) == 0  # fmt: skip
    assert json.loads(out.read_text())["primary"] == "mpjpe"


def test_a_lifter_trains_on_dataset_folders_and_is_scored_on_human36m(synthetic_folders, tmp_path):
    h36m, _ = synthetic_folders["h36m"]
    mpii, _ = synthetic_folders["mpii"]
    with pytest.raises(DatasetError, match=r"mpii=.* train has no pose with every H36M joint .*--joint-set MPII"):
        build_lift_data(TrainConfig(task="lift", supervision="2d", joint_set="H36M", data_2d=(f"mpii={mpii}",)))
    data = build_lift_data(TrainConfig(task="lift", supervision="2d", data_2d=(f"mpii={mpii}",)))
    assert data.joint_set.name == "MPII"
    assert data.train.joints_3d is None
    cfg = TrainConfig(task="lift", data_3d=(f"h36m={h36m}",), out=str(tmp_path / "run"), lift_width=32, epochs=1,
                      batch_size=8, device="cpu")  # fmt: skip
    summary = train_lift(cfg)
    assert summary["epochs"] == 1
    report = evaluate(EvalConfig(checkpoint=summary["last"], data=f"h36m={h36m}", device="cpu"))
    test = read_dataset("h36m", h36m, "test", protocol=2)
    assert report["samples"] == len(test)
    assert "mean-pose baseline" not in report["per_group"]  # real training data: no synthetic mean pose
    assert report["baseline"].startswith("not computed")
    assert np.isfinite(report["metrics"]["pa_mpjpe"])
