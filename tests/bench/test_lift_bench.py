"""mhp-bench on a lifter: its artifacts and its checkpoint timed one 2D pose per call and scored on held-out
synthetic pairs in the same rows as image models; a broken lifter artifact fails its row."""

import json
import shutil

import numpy as np
import pytest
import torch

import mhp
from mhp.bench.run import collect_rows
from mhp.bench.schema import ACCURACY_FAILED, PASSED
from mhp.cli.bench import main as bench_main
from mhp.config import BenchConfig, ExportConfig
from mhp.eval.parity import HELD_OUT_SEED
from mhp.export.lifter import export_graph
from mhp.export.pipeline import export_checkpoint
from tests.export.lifter_checkpoint import train_lifter
from tests.export.test_lifter_export import Mirrored, broken_lifter

# 36 -> 64, two residual blocks of 64 -> 64 twice, 64 -> 54: the multiply-accumulates of one pose
LIFTER_MACS = 36 * 64 + 4 * 64 * 64 + 64 * 54


@pytest.fixture(scope="module")
def lifter_export(tmp_path_factory):
    """(checkpoint, folder): a small trained lifter, its ONNX export and a mirrored (broken) copy of it."""
    folder = tmp_path_factory.mktemp("lift-bench")
    checkpoint = train_lifter(folder / "lifter.pt", width=64, steps=200)
    out = folder / "export"
    export_checkpoint(ExportConfig(checkpoint=str(checkpoint), target="onnx", out=str(out)), log=lambda _: None)
    model = mhp.load_checkpoint(checkpoint)
    permutation = torch.as_tensor(model.joint_set.flip_permutation())
    broken_lifter(out / "lift_mlp_fp32.onnx", "mirrored.onnx", Mirrored(export_graph(model), permutation).eval())
    return checkpoint, out


def test_lifter_rows_are_timed_and_scored_against_torch(lifter_export):
    _, out = lifter_export
    cfg = BenchConfig(artifacts=(str(out),), threads=(1,), runs=20, warmup=2, samples=64, memory=False, plots=False)
    rows, _ = collect_rows(cfg)
    by_name = {row.artifact.rsplit("/", 1)[-1]: row for row in rows}
    assert set(by_name) == {"lifter.pt", "lift_mlp_fp32.onnx", "mirrored.onnx"}
    torch_row, onnx_row = by_name["lifter.pt"], by_name["lift_mlp_fp32.onnx"]
    for row in (torch_row, onnx_row):
        assert row.model == "LIFT_MLP"
        assert row.status == PASSED, row.reason
        assert row.input_size is None  # 2D joints in, no image
        assert row.samples == 64
        assert row.eval_data.startswith(f"synthetic held-out pairs (seed {HELD_OUT_SEED}), 64 poses")
        assert 0 < row.latency_p50_ms <= row.latency_p90_ms
        assert row.latency_p50_ms < 50  # one pose through a 22k-MAC network
        assert row.gmacs == pytest.approx(LIFTER_MACS / 1e9)
        assert 60 < row.mpjpe_mm < 200
        assert row.pa_mpjpe_mm < row.mpjpe_mm
        assert 0 <= row.limb_within_2sigma <= 1
    assert torch_row.delta_mpjpe_mm == 0.0
    assert onnx_row.mpjpe_mm == pytest.approx(torch_row.mpjpe_mm, abs=0.01)
    assert abs(onnx_row.delta_mpjpe_mm) < 0.01
    assert onnx_row.size_bytes == (out / "lift_mlp_fp32.onnx").stat().st_size
    assert 4 * LIFTER_MACS < torch_row.size_bytes < 4 * LIFTER_MACS * 1.2  # float32 weights, biases, BatchNorm
    mirrored = by_name["mirrored.onnx"]
    assert mirrored.status == ACCURACY_FAILED
    assert "max_mm" in mirrored.reason  # an fp32 artifact must match torch to 0.05 mm
    assert mirrored.delta_mpjpe_mm > 50  # left and right swapped: much worse against the ground truth


def test_a_lifter_checkpoint_alone_is_benchmarked_with_its_memory(lifter_export, tmp_path, capsys):
    checkpoint, _ = lifter_export
    argv = ["--checkpoint", str(checkpoint), "--threads", "1", "--runs", "5", "--warmup", "1", "--samples", "32"]
    assert bench_main([*argv, "--no-plots", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "LIFT_MLP" in printed
    (row,) = json.loads(next(tmp_path.glob("*.json")).read_text())["rows"]
    assert (row["format"], row["runtime"], row["status"]) == ("torch", "torch", PASSED)
    # the weights (the row's size: float32 tensors) are resident at least once; mutation tried: the memory child
    # reporting 0 fails it (as "peak >= 0" never did). The measurement itself: tests/bench/test_memory.py
    weights_mb = row["size_bytes"] / 2**20
    assert weights_mb <= row["peak_memory_mb"] < 4 * weights_mb + 60
    assert np.isfinite(row["mpjpe_mm"])


def test_lifter_rows_score_h36m_ground_truth_2d(lifter_export, synthetic_folders, tmp_path):
    checkpoint, _ = lifter_export
    root, _ = synthetic_folders["h36m"]
    shutil.copy(checkpoint, tmp_path / "lifter.pt")
    cfg = BenchConfig(
        checkpoint=str(tmp_path / "lifter.pt"),
        threads=(1,),
        runs=3,
        warmup=0,
        samples=16,
        data=f"h36m={root}",
        memory=False,
        plots=False,
    )
    (row,) = collect_rows(cfg)[0]
    assert row.status == PASSED, row.reason
    assert row.eval_data.startswith("h36m protocol 2 (S9, S11)")
    assert row.samples <= 16
    assert 0 < row.mpjpe_mm < 1000
