"""mhp-bench over a real export: every format timed and scored, broken and missing artifacts reported, files
written, peers compared, and bad input refused in one line."""

import json
import shutil

import pytest

import mhp
from mhp.bench.host import Target, benchmark_target
from mhp.bench.machine import describe_machine
from mhp.bench.report import README_BEGIN, README_END
from mhp.bench.schema import ACCURACY_FAILED, EXPORT_FAILED, PASSED, SKIPPED
from mhp.cli.bench import main as bench_main
from mhp.export.graph import ExportModule
from mhp.runtime.manifest import file_sha256
from mhp.util.optional import MissingDependencyError
from tests.export.test_pipeline import broken_onnx

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


@pytest.fixture(scope="module")
def artifacts(small_relu_checkpoint, small_relu_export, tmp_path_factory):
    """The export, plus a wrongly normalised ONNX, an artifact without manifest and a failed conversion."""
    source, _ = small_relu_export
    folder = tmp_path_factory.mktemp("bench-artifacts")
    for path in source.glob("lpski_*"):
        (shutil.copytree if path.is_dir() else shutil.copy)(path, folder / path.name)
    wrong = mhp.load_checkpoint(small_relu_checkpoint)
    wrong.normalization = "unit"
    broken_onnx(small_relu_checkpoint, folder / "lpski_fp32.onnx", "wrongnorm.onnx", ExportModule(wrong))
    shutil.copy(folder / "lpski_fp32.onnx", folder / "orphan.onnx")
    (folder / "corrupt.tflite").write_bytes(b"not a flatbuffer" * 64)
    manifest = json.loads((folder / "lpski_fp32.tflite.json").read_text())
    manifest["artifact_sha256"] = file_sha256(folder / "corrupt.tflite")  # a manifest written for these bytes
    (folder / "corrupt.tflite.json").write_text(json.dumps(manifest))
    shutil.copy(folder / "lpski_int8.tflite", folder / "swapped.tflite")  # bytes its manifest was not written for
    shutil.copy(folder / "lpski_fp32.tflite.json", folder / "swapped.tflite.json")
    report = json.loads((source / "export_report.json").read_text())
    report["artifacts"].append(
        {
            "path": str(folder / "lpski_fp16.tflite2"),
            "format": "tflite",
            "precision": "fp16",
            "parity": {"status": EXPORT_FAILED, "passed": False, "failures": ["ConverterError: op not supported"]},
        }
    )
    (folder / "export_report.json").write_text(json.dumps(report))
    return folder


@pytest.fixture(scope="module")
def bench_run(artifacts, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench-out")
    readme = out / "README.md"
    readme.write_text(f"# Results\n{README_BEGIN}\n{README_END}\n")
    peer = out / "peer.tflite"
    shutil.copy(artifacts / "lpski_fp32.tflite", peer)
    argv = [
        "--artifacts",
        str(artifacts),
        "--threads",
        "1",
        "--runs",
        "3",
        "--warmup",
        "1",
        "--samples",
        "48",
        "--out",
        str(out / "results"),
        "--readme",
        str(readme),
        "--peer",
        str(peer),
        "--peer-input",
        "128",
    ]
    code = bench_main(argv)
    document = json.loads(next((out / "results").glob("*.json")).read_text())
    return code, document, out


def by_artifact(document):
    return {row["artifact"].rsplit("/", 1)[-1]: row for row in document["rows"]}


def test_every_format_is_timed_and_scored_against_torch(bench_run):
    code, document, _ = bench_run
    rows = by_artifact(document)
    assert code == 1  # the broken artifacts fail the run
    torch_row = next(r for r in document["rows"] if r["format"] == "torch")
    assert torch_row["delta_mpjpe_mm"] == pytest.approx(0.0, abs=1e-3)  # batch 1 vs 32: float rounding
    assert torch_row["status"] == PASSED
    assert torch_row["size_bytes"] < 2_000_000  # float32 weights, not the optimiser state in the checkpoint
    for name in (
        "lpski_fp32.onnx",
        "lpski_fp32.tflite",
        "lpski_fp16.tflite",
        "lpski_dynamic.tflite",
        "lpski_int8.tflite",
    ):
        row = rows[name]
        assert row["status"] == PASSED, row
        assert row["samples"] == 48
        assert row["eval_data"].startswith("synthetic held-out")
        assert 0 < row["latency_p50_ms"] <= row["latency_p90_ms"] <= row["latency_p99_ms"]
        assert row["mpjpe_mm"] > 0
        # the same predictions as torch's, up to the format's precision (pa < mpjpe alone holds for any numbers)
        close = 0.05 if "fp32" in name else 3.0
        assert row["pa_mpjpe_mm"] == pytest.approx(torch_row["pa_mpjpe_mm"], abs=close)
        assert 0 <= row["limb_within_2sigma"] <= 1
        assert row["limb_error_mm"] > 0
        assert abs(row["delta_mpjpe_mm"]) < 1.5
        # at least half the artifact's bytes are resident once it has run (TFLite maps its file and packs the
        # weights; ONNX Runtime copies them); the measurement itself is checked in tests/bench/test_memory.py
        assert row["peak_memory_mb"] >= 0.5 * row["size_bytes"] / 2**20
        assert 0 < row["hardware_fraction"] < 1
        assert row["gmacs_per_s"] == pytest.approx(row["gmacs"] / row["latency_p50_ms"] * 1000)
    assert abs(rows["lpski_fp32.tflite"]["delta_mpjpe_mm"]) < 0.01
    assert rows["lpski_int8.tflite"]["partitions"] == 1
    assert rows["lpski_int8.tflite"]["ops_outside_delegate"] == "QUANTIZE:1"


def test_failures_are_rows_with_their_reason(bench_run):
    _, document, _ = bench_run
    rows = by_artifact(document)
    assert rows["wrongnorm.onnx"]["status"] == ACCURACY_FAILED
    assert any(word in rows["wrongnorm.onnx"]["reason"] for word in ("constant", "collapsed", "ΔMPJPE"))
    assert rows["orphan.onnx"]["status"] == SKIPPED
    assert "manifest" in rows["orphan.onnx"]["reason"]
    assert rows["corrupt.tflite"]["status"] == EXPORT_FAILED
    assert rows["corrupt.tflite"]["reason"].startswith("does not run")
    assert rows["swapped.tflite"]["status"] == SKIPPED
    assert "does not match its manifest" in rows["swapped.tflite"]["reason"]
    assert rows["lpski_fp16.tflite2"]["status"] == EXPORT_FAILED
    assert "ConverterError" in rows["lpski_fp16.tflite2"]["reason"]
    for name in ("lpski_fp16.mlpackage", "lpski_fp32.mlpackage", "lpski_int8.mlpackage"):
        assert rows[name]["status"] == SKIPPED
        assert "needs macOS" in rows[name]["reason"]


def test_peer_is_timed_and_compared_and_the_report_files_exist(bench_run):
    _, document, out = bench_run
    peer = by_artifact(document)["peer.tflite"]
    assert peer["peer"] is True
    assert peer["latency_p50_ms"] > 0
    assert peer["mpjpe_mm"] is None
    ratios = {c["artifact"].rsplit("/", 1)[-1]: c["latency_ratio"] for c in document["comparisons"]}
    assert set(ratios) >= {"lpski_int8.tflite", "lpski_fp32.tflite"}
    # the ratio of the two rows' medians (once only "between 0.2 and 5"); mutation tried: Comparison.ratio as the
    # peer's over ours (1.01 against 0.99 here, which the old range passed) fails it
    rows = by_artifact(document)
    expected = rows["lpski_fp32.tflite"]["latency_p50_ms"] / peer["latency_p50_ms"]
    assert ratios["lpski_fp32.tflite"] == pytest.approx(expected, rel=1e-9)
    stems = {p.suffix for p in (out / "results").iterdir()}
    assert stems == {".json", ".csv", ".md", ".png"}
    readme = (out / "README.md").read_text()
    assert "| LPSKI | tflite | int8 |" in readme
    assert "x the latency of peer.tflite" in readme
    assert document["machine"]["libraries"]["ai-edge-litert"]


def test_a_runtime_that_is_not_installed_is_skipped_with_the_reason(monkeypatch, small_relu_export):
    folder, _ = small_relu_export

    def missing(target, threads):
        raise MissingDependencyError("onnxruntime is not installed; install the runtime extra")

    monkeypatch.setattr("mhp.bench.host.make_runner", missing)
    target = Target("lpski_fp32.onnx", "onnx", "fp32", path=folder / "lpski_fp32.onnx")
    rows = benchmark_target(
        target, [1, 2], describe_machine(), data=None, reference=None, data_label="", gmacs=None, warmup=0, runs=1
    )
    assert len(rows) == 1
    assert rows[0].status == SKIPPED
    assert "runtime extra" in rows[0].reason


def test_bad_input_is_refused_in_one_line(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = [
        (["--artifacts", str(tmp_path / "gone")], "does not exist"),
        (["--artifacts", str(empty)], "holds no .onnx"),
        (["--artifacts", str(empty), "--runtimes", "tensorrt"], "unknown runtime 'tensorrt'"),
        (["--artifacts", str(empty), "--threads", "0"], "positive thread counts"),
        (["--data", "h36m", "--artifacts", str(empty)], "--data h36m: give the dataset's folder, --data h36m=ROOT"),
        ([], "nothing to benchmark"),
        (["--peer", str(tmp_path / "none.tflite")], "does not exist"),
    ]
    for argv, message in cases:
        assert bench_main([*argv, "--out", str(tmp_path / "out")]) == 1, argv
        err = capsys.readouterr().err.strip()
        assert message in err, (argv, err)
        assert len(err.splitlines()) == 1, (argv, err)
