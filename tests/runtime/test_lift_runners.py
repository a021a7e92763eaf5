"""Lift runners: load_runner picks them from a lifter's manifest; ONNX and torch give the same millimetres, any
batch size; bad keypoints and a manifest of another lifter are refused in one line."""

import json

import numpy as np
import pytest

import mhp
from mhp.config import ExportConfig
from mhp.errors import MhpError
from mhp.eval.parity import lift_parity_set
from mhp.export.pipeline import export_checkpoint
from mhp.models.runner import TorchLiftRunner
from mhp.runtime import load_runner
from mhp.runtime.lift import OnnxLiftRunner, check_keypoints
from tests.export.lifter_checkpoint import train_lifter


@pytest.fixture(scope="module")
def lifter(tmp_path_factory):
    """(model, ONNX artifact) of a small trained lifter."""
    folder = tmp_path_factory.mktemp("lift-runtime")
    checkpoint = train_lifter(folder / "lifter.pt", width=64, steps=150)
    export_checkpoint(ExportConfig(checkpoint=str(checkpoint), target="onnx", out=str(folder), no_check=True))
    return mhp.load_checkpoint(checkpoint), folder / "lift_mlp_fp32.onnx"


def test_onnx_runner_matches_torch_at_any_batch_size(lifter):
    model, artifact = lifter
    runner = load_runner(artifact, threads=1)
    assert isinstance(runner, OnnxLiftRunner)
    assert runner.num_joints == 18
    uv = lift_parity_set(model, 40).uv
    expected = TorchLiftRunner(model, batch_size=7)(uv)  # batches of 7: the last one short
    assert expected.dtype == np.float32
    assert expected.shape == (40, 18, 3)
    assert np.abs(runner(uv) - expected).max() < 0.05  # mm
    one = runner.run_one(uv[5:6])
    assert np.abs(one - expected[5:6]).max() < 0.05
    assert runner(runner.example_input()).shape == (1, 18, 3)
    assert np.abs(expected[:, model.root]).max() < 1e-3  # root-relative


def test_bad_keypoints_are_refused_in_one_line(lifter):
    _, artifact = lifter
    runner = load_runner(artifact)
    cases = [
        (np.zeros((2, 17, 2)), "(N, 18, 2)"),
        (np.zeros((18, 2)), "(N, 18, 2)"),
        (np.zeros((0, 18, 2)), "(N, 18, 2)"),
        (np.full((1, 18, 2), np.nan), "finite"),
    ]
    for uv, message in cases:
        with pytest.raises(MhpError) as caught:
            runner(uv)
        assert message in str(caught.value)
        assert "\n" not in str(caught.value)
    assert check_keypoints(np.zeros((3, 18, 2), np.float64), 18).dtype == np.float32


def test_a_manifest_of_another_lifter_is_refused(lifter, tmp_path):
    _, artifact = lifter
    copy = tmp_path / artifact.name
    copy.write_bytes(artifact.read_bytes())
    manifest = json.loads((artifact.parent / (artifact.name + ".json")).read_text())
    manifest["input"]["shape"] = ["batch", 17, 2]  # written for a 17-joint lifter
    (tmp_path / (artifact.name + ".json")).write_text(json.dumps(manifest))
    with pytest.raises(MhpError, match="its manifest promises input 'keypoints' \\['batch', 17, 2\\]"):
        load_runner(copy)
