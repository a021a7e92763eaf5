"""Calibration and parity data come from the checkpoint's own data: a Human3.6M run is calibrated on crops of the part
of its training split it trains on and gated on its held-out validation slice; a recorded root that is gone stops the
export with one line unless synthetic scenes are asked for; synthetic runs and original snapshots keep their rules."""

import re

import numpy as np
import pytest
import torch

import mhp
import mhp.export.calibration as calibration_module
import mhp.export.lifter as lifter_module
from mhp.cli.export import main as export_main
from mhp.config import ExportConfig
from mhp.data import read_dataset
from mhp.data.dataset import CropConfig, PoseDataset
from mhp.data.holdout import split_validation
from mhp.data.lift_pairs import pairs_from_annotations
from mhp.data.synthetic import SyntheticHumans
from mhp.errors import MhpError
from mhp.eval.parity import HELD_OUT_SEED, normalized_keypoints, parity_set
from mhp.export.calibration import synthetic_calibration
from mhp.export.lifter import lift_calibration, lift_parity_data
from mhp.export.pipeline import check_artifact, export_checkpoint
from mhp.export.sources import (
    NO_RECORD,
    VALIDATION_DATA,
    calibration_choice,
    image_calibration,
    image_parity_set,
    parity_choice,
    validation_entry,
)
from mhp.models.checkpoint import save_checkpoint
from mhp.runtime.manifest import read_manifest
from mhp.skeleton import remap_joints

TINY = {"width_mult": 0.25, "embedding_size": 32, "input_size": 64, "activation": "relu"}
FEW = 8  # the fixture's Human3.6M training part holds 30 samples, under the 200 real calibration needs


@pytest.fixture
def few_samples(monkeypatch):
    monkeypatch.setattr(calibration_module, "MIN_SAMPLES", FEW)
    monkeypatch.setattr(lifter_module, "MIN_SAMPLES", FEW)


@pytest.fixture(scope="module")
def model():
    """A tiny random LPSKI with BatchNorm statistics of real crops: untrained, but its poses follow the input."""
    torch.manual_seed(0)
    model = mhp.create_model("LPSKI", **TINY)
    crops = parity_set(model, SyntheticHumans(16, joint_set=model.joint_set, seed=1, image_size=(128, 128))).pixels
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.momentum = None  # the plain average of what it sees
    model.train()
    with torch.no_grad():
        model.forward_heatmaps(model.normalize(torch.from_numpy(crops)))
    return model.eval()


@pytest.fixture(scope="module")
def h36m(synthetic_folders):
    """(root, the training part a run trains on, the held-out validation slice) of the fixture's Human3.6M."""
    root = synthetic_folders["h36m"][0]
    return (root, *split_validation(read_dataset("h36m", root, "train", protocol=2)))


def h36m_config(root, **overrides):
    return {"data_3d": [f"h36m={root}"], "data_2d": [], "val_data": None, "protocol": 2, "seed": 0, **overrides}


def test_a_human36m_run_calibrates_on_crops_of_its_training_part(model, h36m, few_samples):
    root, fit, _ = h36m
    config = h36m_config(root)
    choice = calibration_choice(None, config)
    assert (choice.kind, choice.name, choice.root) == ("dataset", "h36m", root)
    calib = image_calibration(choice, model, config, 256)
    record = calib.record()
    assert record["source"] == f"h36m={root}"
    assert record["id"] == f"h36m-train-fit-n{len(fit)}-crop64"
    assert record["description"].startswith("h36m train (S1, S5, S6, S7, S8; held-out validation slice left out)")
    assert record["description"].endswith("the checkpoint's training data")
    assert len(record["sha256"]) == 64
    assert set(record["made_with"]) == {"numpy", "opencv-python-headless"}
    dataset = PoseDataset(fit, model.joint_set, CropConfig.for_model(model), train=False)
    expected = np.stack([dataset.eval_pixels(i)[0] for i in range(len(fit))])
    np.testing.assert_array_equal(calib.pixels, expected)
    few = image_calibration(choice, model, config, 10)  # evenly spaced, first and last included
    np.testing.assert_array_equal(few.pixels[[0, -1]], expected[[0, -1]])
    assert len(few.pixels) == 10


def test_parity_runs_on_the_held_out_validation_slice(model, h36m):
    root, fit, val = h36m
    config = h36m_config(root)
    data, label = image_parity_set(parity_choice(None, config), model, config, 256)
    assert label.startswith("h36m held-out recordings (subaction 2, all cameras) S1 Discussion")
    assert label.endswith(f"{len(val)} of {len(val)} crops; the checkpoint's validation data")
    assert data.source.split == "val"
    gt = np.stack([remap_joints(val.record(i).joints_cam, val.joint_set, model.joint_set) for i in range(len(val))])
    np.testing.assert_allclose(data.gt_cam, gt)
    assert not set(val.image_paths) & set(fit.image_paths), "the gate never sees a calibration image"
    assert data.to_camera(np.full((len(val), model.num_joints, 3), 4.0)).shape == gt.shape


def test_which_data_each_recorded_run_and_flag_gives(h36m, tmp_path):
    root = h36m[0]
    assert parity_choice(None, h36m_config(root, val_data="synthetic")).kind == "synthetic"
    none = parity_choice(None, h36m_config(root, val_data="none"))  # no slice was held out: the one it would be
    assert (none.kind, none.name, none.origin) == (
        "dataset",
        "h36m",
        f"{VALIDATION_DATA} (--val-data none: trained on)",
    )
    mixed = {"data_3d": ["synthetic", f"h36m={root}"], "data_2d": []}
    assert calibration_choice(None, mixed).name == "h36m"  # the first real set
    assert parity_choice(None, mixed).kind == "synthetic"  # validated like training did: on the first 3D entry
    assert calibration_choice(None, {"data_3d": [], "data_2d": [f"mpii={root}"]}).name == "mpii"
    lift = {"task": "lift", "supervision": "2d", "data_2d": [f"coco={root}"], "data_3d": [f"h36m={root}"]}
    assert calibration_choice(None, lift).name == "coco"
    assert validation_entry(lift) == "synthetic"  # as training: the first h36m / muco entry of the 2D data
    assert validation_entry({**lift, "supervision": "3d"}) == f"h36m={root}"
    flag = calibration_choice(f"muco={root}", {})
    assert (flag.kind, flag.name, flag.origin) == ("dataset", "muco", f"--calib-data muco={root}")
    assert calibration_choice(str(tmp_path), {}).kind == "folder"
    cases = [
        (lambda: calibration_choice(f"mupots={root}", {}), "NAME one of h36m, muco, mpii, coco"),
        (
            lambda: calibration_choice(f"h36m={tmp_path / 'gone'}", {}),
            f"{tmp_path / 'gone'} is not a folder; it should",
        ),
        (lambda: parity_choice(f"mpii={root}", {}), "NAME one of h36m, muco, or synthetic"),
        (lambda: parity_choice(str(tmp_path), {}), "pass NAME=ROOT (h36m, muco) or synthetic"),
    ]
    for call, message in cases:
        with pytest.raises(MhpError, match=re.escape(message)):
            call()


def test_a_synthetic_run_keeps_its_synthetic_record(model):
    config = {"data_3d": [], "data_2d": [], "seed": 3, "synthetic_image_size": 96}
    choice = calibration_choice(None, config)
    assert (choice.kind, choice.origin) == ("synthetic", "the checkpoint's training data")
    calib = image_calibration(choice, model, config, 200)
    assert calib.id == "synthetic-seed3-n200-render96-crop64"
    assert calib.sha256 == synthetic_calibration(model, config, 200).sha256
    assert calib.description == "synthetic scenes (seed 3), 200 crops; the checkpoint's training data"
    _, label = image_parity_set(parity_choice(None, config), model, config, 4)
    assert label == f"synthetic held-out scenes (seed {HELD_OUT_SEED}), 4 crops; the checkpoint's validation data"
    assert calibration_choice("synthetic", config).origin == "--calib-data synthetic"  # its own data: no warning


def test_an_original_snapshot_needs_calib_and_says_what_parity_runs_on():
    with pytest.raises(
        MhpError, match=r"records no training data \(an original snapshot\?\); pass --calib-data NAME=ROOT"
    ):
        calibration_choice(None, {})
    assert calibration_choice("synthetic", {}).origin == f"--calib-data synthetic; {NO_RECORD}"
    assert parity_choice(None, {}).origin == NO_RECORD


def test_a_lifter_calibrates_on_its_training_poses_and_checks_on_held_out_ones(h36m, few_samples):
    root, fit, val = h36m
    lifter = mhp.create_model("LIFT_MLP", width=32).eval()
    config = {"task": "lift", "supervision": "3d", "data_3d": [f"h36m={root}"], "seed": 0}
    calib = lift_calibration(calibration_choice(None, config), lifter, config, 256)
    poses = pairs_from_annotations(fit, lifter.joint_set).complete()
    np.testing.assert_allclose(calib.keypoints, normalized_keypoints(lifter, poses.joints_2d))
    assert calib.record()["source"] == f"h36m={root}"
    data = lift_parity_data(parity_choice(None, config), lifter, config, 256)
    held = pairs_from_annotations(val, lifter.joint_set).complete()
    np.testing.assert_allclose(data.gt_cam, held.joints_3d)
    assert data.label.startswith("h36m held-out recordings")
    with pytest.raises(MhpError, match="a lifter calibrates on 2D poses"):
        lift_calibration(calibration_choice(str(root), config), lifter, config, 256)


def saved(tmp_path, model, config):
    return str(save_checkpoint(tmp_path / "run.pt", model, config=config))


def test_a_recorded_root_that_is_gone_stops_the_export_in_one_line(model, tmp_path, capsys):
    gone = tmp_path / "Human36M"
    checkpoint = saved(tmp_path, model, h36m_config(gone))
    out = ["--checkpoint", checkpoint, "--out", str(tmp_path / "out"), "--parity-samples", "16"]
    cases = [
        (["--target", "tflite", "--int8"], f"INT8 calibration: the checkpoint was trained on h36m at {gone}, which"),
        (["--target", "onnx", "--precision", "fp32"], f"parity check: the checkpoint was validated on h36m at {gone}"),
    ]
    for argv, message in cases:
        assert export_main([*out, *argv]) == 1
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1, err
        assert message in err, err
        assert (
            "or --calib-data synthetic (synthetic scenes; not this model's data)" in err
            or "--parity-data synthetic" in err
        )
    assert export_main([*out, "--target", "onnx", "--precision", "fp32", "--parity-data", "synthetic"]) == 0
    assert "synthetic held-out scenes" in read_manifest(tmp_path / "out" / "lpski_fp32.onnx").parity["data"]
    config = ExportConfig(check=str(tmp_path / "out" / "lpski_fp32.onnx"))
    with pytest.raises(MhpError, match="parity check: the checkpoint was validated on h36m"):
        check_artifact(config)  # --check takes the same data as the export would


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_human36m_run_exports_full_int8_calibrated_and_checked_on_its_own_data(model, h36m, tmp_path, few_samples):
    """The one real INT8 conversion: the manifest records both data sets, --check reruns on the same slice."""
    root, fit, val = h36m
    checkpoint = saved(tmp_path, model, h36m_config(root))
    lines = []
    cfg = ExportConfig(checkpoint=checkpoint, target="tflite", int8=True, out=str(tmp_path / "out"))
    (result,) = export_checkpoint(cfg, log=lines.append)
    manifest = read_manifest(result["path"])
    assert manifest.calibration["source"] == f"h36m={root}"
    assert manifest.calibration["samples"] == len(fit)
    assert manifest.parity["data"].startswith("h36m held-out recordings")
    assert manifest.parity["samples"] == len(val)
    assert lines[0].startswith("calibration: h36m train (S1, S5, S6, S7, S8; held-out validation slice left out)")
    assert lines[1].startswith("parity: h36m held-out recordings")
    checked = check_artifact(ExportConfig(check=result["path"]))
    assert checked["parity"]["data"] == manifest.parity["data"]
    assert checked["parity"]["samples"] == len(val)
