"""Limb plausibility in mhp-bench rows: measured under the right prior, carried into the tables, never NaN."""

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

import mhp
from mhp.bench.host import scored_row
from mhp.bench.report import HEADERS, table_cells
from mhp.bench.run import evaluation_prior
from mhp.bench.schema import ACCURACY_FAILED, NOT_SCORED, PASSED, BenchRow, row_from_dict
from mhp.cli.bench import main as bench_main
from mhp.config import BenchConfig
from mhp.data.synthetic import SyntheticHumans
from mhp.errors import MhpError
from mhp.eval.parity import Reference, mpjpe_mm, parity_set
from mhp.limbs import limb_prior, plausibility, write_limb_prior
from mhp.skeleton import H36M, MUCO


@pytest.fixture(scope="module")
def data():
    model = mhp.create_model("LPSKI", width_mult=0.25, embedding_size=32, input_size=64)
    return parity_set(model, SyntheticHumans(8, joint_set=H36M, seed=5, image_size=(128, 128)))


def voxels(data, seed: int) -> np.ndarray:
    """Scattered predictions inside the heatmap volume."""
    width, height = data.crop.heatmap_size
    high = np.array([width, height, data.crop.depth_bins]) - 1
    return np.random.default_rng(seed).uniform(0.2, 0.8, size=(len(data.gt_cam), H36M.num_joints, 3)) * high


def row() -> BenchRow:
    return BenchRow(model="LPSKI", format="onnx", precision="fp32", runtime="onnxruntime", threads=1, status=PASSED)


def test_default_prior_is_the_crops_ground_truth_and_a_file_is_checked(data, tmp_path):
    prior = evaluation_prior(BenchConfig(), data)
    assert prior == limb_prior(data.gt_cam, H36M, source="measured on their ground truth")
    given = limb_prior(data.gt_cam[:4] * 1.2, H36M, source="h36m train")
    path = write_limb_prior(tmp_path / "h36m.json", given)
    assert evaluation_prior(BenchConfig(limb_prior=str(path)), data) == replace(
        given, source=f"from {path} (h36m train)"
    )
    muco = write_limb_prior(tmp_path / "muco.json", limb_prior(np.random.default_rng(0).normal(size=(3, 21, 3)), MUCO))
    with pytest.raises(MhpError, match="is for the MUCO set but the model predicts H36M; write one"):
        evaluation_prior(BenchConfig(limb_prior=str(muco)), data)
    one = replace(data, gt_cam=data.gt_cam[:1])
    with pytest.raises(MhpError, match=r"limb plausibility: .*--samples 2 or more"):
        evaluation_prior(BenchConfig(), one)


def test_scored_rows_carry_the_plausibility_of_their_predictions(data):
    prior = evaluation_prior(BenchConfig(), data)
    coords = voxels(data, 0)
    expected = plausibility(data.to_camera(coords), prior)
    unreferenced = scored_row(row(), coords, data, None, "crops", prior)
    assert unreferenced.status == NOT_SCORED
    assert unreferenced.limb_within_2sigma == pytest.approx(expected["within_2sigma"])
    assert unreferenced.limb_error_mm == pytest.approx(expected["bone_error_mm"])
    assert unreferenced.limb_error_mm > 0
    truth = plausibility(data.gt_cam, prior)
    assert truth["within_2sigma"] > unreferenced.limb_within_2sigma  # scattered joints make implausible bones
    camera = data.to_camera(coords)
    reference = Reference("torch", coords, camera, mpjpe_mm(data, camera))
    referenced = scored_row(replace(row(), format="torch"), coords, data, reference, "crops", prior)
    assert referenced.status == PASSED
    assert referenced.limb_within_2sigma == unreferenced.limb_within_2sigma
    assert referenced.limb_error_mm == unreferenced.limb_error_mm
    broken = coords.copy()
    broken[0, 0, 0] = np.nan
    for ref in (None, reference):  # NaN outputs: the accuracy fails and no plausibility is made up
        failed = scored_row(row(), broken, data, ref, "crops", prior)
        assert failed.status == ACCURACY_FAILED
        assert failed.limb_within_2sigma is None
        assert failed.limb_error_mm is None
    assert row_from_dict(referenced.to_dict(), where="test") == referenced


def test_tables_show_the_plausibility_columns():
    cells = dict(zip(HEADERS, table_cells(replace(row(), limb_within_2sigma=0.8125, limb_error_mm=23.46)), strict=True))
    assert cells["bones in 2σ %"] == "81.2"
    assert cells["bone err mm"] == "23.5"
    empty = dict(zip(HEADERS, table_cells(row()), strict=True))
    assert empty["bones in 2σ %"] == ""
    assert empty["bone err mm"] == ""


def test_bench_rows_of_a_checkpoint_report_plausibility(tmp_path, capsys):
    model = mhp.create_model("LPSKI", width_mult=0.25, embedding_size=32, input_size=64)
    for module in model.modules():  # the original init (std 0.001) gives every crop the same pose: spread them
        if isinstance(module, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(module.weight)
    checkpoint = mhp.save_checkpoint(tmp_path / "tiny.pt", model)
    poses = np.random.default_rng(1).normal(size=(5, 18, 3)) * 300
    given = write_limb_prior(tmp_path / "prior.json", limb_prior(poses, H36M))
    argv = ["--checkpoint", str(checkpoint), "--runtimes", "torch", "--threads", "1", "--samples", "6"]
    argv += ["--runs", "2", "--warmup", "0", "--no-memory", "--no-plots"]
    for extra, says in (
        ([], "; limb prior measured on their ground truth"),
        (["--limb-prior", str(given)], f"; limb prior from {given}"),
    ):
        out = tmp_path / f"out{len(extra)}"
        assert bench_main([*argv, *extra, "--out", str(out)]) == 0
        (scored,) = json.loads(next(out.glob("*.json")).read_text())["rows"]
        assert scored["eval_data"].endswith(says)
        assert 0 <= scored["limb_within_2sigma"] <= 1
        assert scored["limb_error_mm"] > 0
        assert "bones in 2σ %" in capsys.readouterr().out
        assert "bone err: mean |length - mean|" in next(out.glob("*.md")).read_text()
