"""``mhp.convert`` and ``mhp.benchmark``: the Python faces of mhp-export and mhp-bench, from a checkpoint path or a
model in memory, with manifests, parity reports and benchmark rows as values."""

import pytest

import mhp
from mhp.bench.schema import PASSED
from mhp.errors import MhpError

pytestmark = pytest.mark.slow


def test_convert_a_checkpoint_then_benchmark_its_artifacts(small_relu_checkpoint, tmp_path):
    artifacts = mhp.convert(
        small_relu_checkpoint, target="onnx", precision="fp32", out=tmp_path / "export", parity_samples=32
    )
    (onnx,) = artifacts
    assert onnx.passed
    assert (onnx.format, onnx.precision) == ("onnx", "fp32")
    assert onnx.path == tmp_path / "export" / "lpski_fp32.onnx"
    assert onnx.path.is_file()
    assert onnx.size_bytes == onnx.path.stat().st_size
    assert onnx.manifest.format == "onnx"
    assert onnx.manifest.parity == onnx.parity
    assert onnx.parity["voxel_error"]["max"] <= 1e-3  # the fp32 budget
    rows = mhp.benchmark(
        tmp_path / "export", runtimes=("onnxruntime",), threads=(1,), runs=3, warmup=1, samples=32, memory=False
    )
    (row,) = rows
    assert (row.format, row.runtime, row.threads, row.status) == ("onnx", "onnxruntime", 1, PASSED)
    assert row.latency_p50_ms > 0
    assert abs(row.delta_mpjpe_mm) < 0.01  # fp32: the reference's own accuracy


def test_convert_a_model_in_memory(tmp_path):
    model = mhp.create_model("LPSKI", width_mult=0.25, input_size=64, activation="relu")
    (onnx,) = mhp.convert(model, target="onnx", precision="fp32", out=tmp_path, check=False)
    assert onnx.path.is_file()
    assert onnx.parity["status"].startswith("skipped")
    assert onnx.passed
    assert (tmp_path / "lpski_source.pt").is_file()
    assert onnx.manifest.source_checkpoint["path"] == str(tmp_path / "lpski_source.pt")
    with pytest.raises(MhpError, match="pass out="):
        mhp.convert(model, target="onnx")
    with pytest.raises(MhpError, match="not dict"):
        mhp.convert({}, target="onnx", out=tmp_path)
