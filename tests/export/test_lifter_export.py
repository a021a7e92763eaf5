"""mhp-export of a LIFT_MLP checkpoint: the ONNX contract an app follows, parity gates that pass the real
artifacts and fail broken ones, and (slow) TFLite fp32/fp16/dynamic/full-INT8 and CoreML through the same pipeline."""

import copy
from dataclasses import replace

import numpy as np
import pytest
import torch

import mhp
from mhp.cli.export import main as export_main
from mhp.config import ExportConfig
from mhp.data.lift_pairs import synthetic_pairs
from mhp.eval.parity import (
    HELD_OUT_SEED,
    LIFT_BUDGETS,
    Reference,
    accuracy_mm,
    compare_outputs,
    format_parity_table,
    lift_parity_set,
)
from mhp.export.lifter import INPUT_NAME, OUTPUT_NAME, export_graph
from mhp.export.onnx import write_onnx
from mhp.export.pipeline import check_artifact, export_checkpoint
from mhp.runtime import load_runner
from mhp.runtime.base import RuntimeUnavailableError
from mhp.runtime.lift import CoremlLiftRunner, OnnxLiftRunner, TfliteLiftRunner
from mhp.runtime.manifest import read_manifest, write_manifest
from tests.export.lifter_checkpoint import SEED, train_lifter


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return str(train_lifter(tmp_path_factory.mktemp("lifter") / "lifter.pt", width=64))


@pytest.fixture(scope="module")
def onnx_export(checkpoint, tmp_path_factory):
    out = tmp_path_factory.mktemp("lifter-onnx")
    (result,) = export_checkpoint(ExportConfig(checkpoint=checkpoint, target="onnx", out=str(out)), log=lambda _: None)
    return out / "lift_mlp_fp32.onnx", result


def normalize_like_an_app(joints_px: np.ndarray, record: dict) -> np.ndarray:
    """The manifest's formula in numpy, as the demo apps apply it: nothing but the manifest is needed."""
    norm = record["normalization"]
    root, head, c = norm["root_index"], norm["head_index"], norm["c"]
    centred = joints_px - joints_px[:, root : root + 1]
    return (centred / (c * np.linalg.norm(centred[:, head], axis=-1))[:, None, None]).astype(np.float32)


def test_onnx_fp32_passes_its_gate_with_the_numbers_of_the_torch_lifter(onnx_export):
    _, result = onnx_export
    parity = result["parity"]
    assert parity["status"] == "passed", parity
    assert parity["samples"] == 256
    assert parity["mm_error"]["max"] <= LIFT_BUDGETS["fp32"].max_mm
    assert parity["mpjpe_candidate_mm"] == pytest.approx(parity["mpjpe_reference_mm"], abs=0.01)
    # a trained lifter: well under the 237 mm of the mean training pose on these held-out pairs
    assert 60 < parity["mpjpe_reference_mm"] < 200
    assert parity["pa_mpjpe_candidate_mm"] < parity["mpjpe_candidate_mm"]
    assert result["size_bytes"] > 4 * 22_000  # float32 weights of 22k multiply-accumulates


def test_manifest_contract_lets_an_app_lift_pixel_joints(checkpoint, onnx_export):
    path, _ = onnx_export
    manifest = read_manifest(path)
    assert manifest.task == "lift"
    assert manifest.decode == "in_graph"
    assert manifest.input["name"] == INPUT_NAME
    assert manifest.input["shape"] == ["batch", 18, 2]
    assert manifest.input["dtype"] == "float32"
    norm = manifest.input["normalization"]
    assert (norm["root_joint"], norm["head_joint"], norm["c"]) == ("Pelvis", "Head", 10.0)
    assert norm["inside_graph"] is False
    assert manifest.outputs == [
        {"name": OUTPUT_NAME, "shape": ["batch", 18, 3], "dtype": "float32", "units": manifest.outputs[0]["units"]}
    ]
    assert "root-relative mm" in manifest.outputs[0]["units"]
    assert manifest.joints["names"][norm["root_index"]] == "Pelvis"
    assert manifest.geometry == {"output": "xyz", "unit_mm": 1000.0, "root_distance": 10.0}
    assert len(manifest.source_checkpoint["sha256"]) == 64
    model = mhp.load_checkpoint(checkpoint)
    pixels = synthetic_pairs(32, 5, model.joint_set).joints_2d
    runner = load_runner(path)
    assert isinstance(runner, OnnxLiftRunner)
    lifted = runner(normalize_like_an_app(pixels, manifest.input))
    with torch.no_grad():
        expected = model.lift(torch.tensor(pixels, dtype=torch.float32)).numpy()
    assert lifted.shape == (32, 18, 3)
    assert np.abs(lifted - expected).max() < 0.05  # mm
    assert np.abs(lifted[:, 0]).max() < 1e-3  # the root sits at the origin


def reference_on(n=256):
    model = mhp.create_model("LIFT_MLP", output="xyz", width=64)
    data = lift_parity_set(model, n)
    gt = data.gt_cam
    # a stand-in reference: the ground truth plus a fixed 60 mm-ish error, scored like a lifter's
    pose = gt + np.random.default_rng(0).normal(0, 35, gt.shape)
    pose -= pose[:, :1]
    scores = accuracy_mm(data, pose)
    return data, Reference("torch", pose, pose, scores["mpjpe"], scores["pa_mpjpe"])


@pytest.mark.parametrize("precision", ["fp32", "fp16", "int8"])
def test_gates_pass_close_candidates_and_fail_perturbed_ones(precision):
    data, reference = reference_on()
    budget = LIFT_BUDGETS[precision]
    rng = np.random.default_rng(1)
    close = {"fp32": 0.005, "fp16": 0.3, "int8": 4.0}[precision]  # per-axis noise (mm) each precision may add
    good = compare_outputs(
        reference, reference.outputs + rng.normal(0, close, reference.outputs.shape), "c", data, budget
    )
    assert good["passed"], good
    mirrored = reference.outputs[:, data.joint_set.flip_permutation()]
    broken = {
        "mirrored": mirrored,
        "noisy": reference.outputs + rng.normal(0, 40, reference.outputs.shape),
        "nan": np.where(np.arange(18)[None, :, None] == 3, np.nan, reference.outputs),
        "constant": np.broadcast_to(reference.outputs[:1], reference.outputs.shape).copy(),
        "metres": reference.outputs / 1000,
    }
    for name, pose in broken.items():
        report = compare_outputs(reference, pose, name, data, budget)
        assert report["passed"] is False, (precision, name)
        assert report["failures"], (precision, name)


def test_int8_budget_scales_with_the_reference_mpjpe():
    data, reference = reference_on()
    report = compare_outputs(reference, reference.outputs, "same", data, LIFT_BUDGETS["int8"])
    limit = max(1.5, 0.02 * reference.mpjpe_mm)
    assert report["budget"]["delta_mpjpe_mm"] == pytest.approx(limit)
    assert report["budget"]["mean_mm"] == pytest.approx(0.35 * reference.mpjpe_mm)
    assert report["delta_mpjpe_mm"] == 0.0
    assert report["passed"]


class Mirrored(torch.nn.Module):
    """A lifter whose left and right joints come out swapped: the classic joint-order bug."""

    def __init__(self, inner, permutation):
        super().__init__()
        self.inner, self.permutation = inner, permutation

    def forward(self, uv):
        return self.inner(uv)[:, self.permutation]


def broken_lifter(good, name, module):
    path = good.with_name(name)
    example = torch.zeros(1, 18, 2)
    write_onnx(
        module, example, path, input_name=INPUT_NAME, output_names=[OUTPUT_NAME], dynamic_batch=True, metadata={}
    )
    write_manifest(path, replace(read_manifest(good), artifact=name))
    return path


def test_check_fails_broken_lifter_artifacts_and_passes_the_real_one(checkpoint, onnx_export, capsys):
    good, _ = onnx_export
    model = mhp.load_checkpoint(checkpoint)
    metres = copy.deepcopy(model)
    metres.unit_mm = 1.0  # the pose left in metres
    cases = {
        "mirrored.onnx": Mirrored(export_graph(model), torch.as_tensor(model.joint_set.flip_permutation())).eval(),
        "metres.onnx": export_graph(metres),
    }
    for name, module in cases.items():
        path = broken_lifter(good, name, module)
        result = check_artifact(ExportConfig(check=str(path), parity_samples=128))
        assert result["parity"]["passed"] is False, name
        assert read_manifest(path).parity["status"] == "FAILED"
        assert export_main(["--check", str(path), "--parity-samples", "128"]) == 1
        out = capsys.readouterr().out
        assert "parity FAILED" in out
    assert export_main(["--check", str(good), "--parity-samples", "128"]) == 0
    table = capsys.readouterr().out
    assert read_manifest(good).parity["samples"] == 128
    row = next(line for line in table.splitlines() if line.startswith("lift_mlp_fp32.onnx"))
    assert row.split()[1:4] == ["-", "-", "-"]  # no voxels for a lifter
    assert row.endswith("passed")


def test_parity_table_prints_lifter_rows(onnx_export):
    _, result = onnx_export
    failed = {**result["parity"], "status": "FAILED", "passed": False, "failures": ["mean_mm 80 > budget 50"]}
    table = format_parity_table([("lift_mlp_fp32.onnx", result["parity"]), ("bad.tflite", failed)])
    header, good, bad = table.splitlines()
    assert "max mm" in header
    assert "ΔMPJPE" in header
    cells = good.split()
    assert float(cells[4]) == pytest.approx(result["parity"]["mm_error"]["mean"], abs=0.01)
    assert float(cells[6]) == pytest.approx(result["parity"]["mpjpe_candidate_mm"], abs=0.1)
    assert bad.endswith("FAILED  mean_mm 80 > budget 50")


def test_lifter_calibration_errors_are_one_line(checkpoint, tmp_path, capsys):
    cases = [
        (
            ["--target", "tflite", "--int8", "--calib-data", str(tmp_path)],
            "holds images; a lifter calibrates on 2D poses",
        ),
        (["--target", "tflite", "--int8", "--calib-samples", "50"], "--calib-samples 50 is too few"),
    ]
    for argv, message in cases:
        assert export_main(["--checkpoint", checkpoint, "--out", str(tmp_path / "out"), *argv]) == 1
        err = capsys.readouterr().err.strip()
        assert message in err, err
        assert len(err.splitlines()) == 1


@pytest.fixture(scope="module")
def full_export(checkpoint, tmp_path_factory):
    out = tmp_path_factory.mktemp("lifter-all")
    results = export_checkpoint(ExportConfig(checkpoint=checkpoint, out=str(out)), log=lambda _: None)
    return out, {(r["format"], r["precision"]): r for r in results}


def float_ops(path) -> dict[str, int]:
    """Ops of a .tflite that read or write a float32 tensor (a fully integer graph has only its edges)."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    tensors = {t["index"]: t["dtype"] for t in interpreter.get_tensor_details()}
    found: dict[str, int] = {}
    for op in interpreter._get_ops_details():
        if op["op_name"] != "DELEGATE" and any(
            tensors.get(int(t)) == np.float32 for t in [*op["inputs"], *op["outputs"]] if t >= 0
        ):
            found[op["op_name"]] = found.get(op["op_name"], 0) + 1
    return found


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_full_int8_tflite_passes_its_gate_with_an_integer_graph(full_export):
    out, results = full_export
    int8 = results["tflite", "int8"]
    assert int8["parity"]["status"] == "passed", int8["parity"]
    assert int8["parity"]["delta_mpjpe_mm"] <= int8["parity"]["budget"]["delta_mpjpe_mm"]
    assert int8["graph"]["xnnpack_partitions"] == 1
    assert int8["graph"]["ops_outside_delegate"] == {}
    assert float_ops(out / "lift_mlp_int8.tflite") == {"QUANTIZE": 1, "DEQUANTIZE": 1}
    manifest = read_manifest(out / "lift_mlp_int8.tflite")
    assert manifest.input["dtype"] == "float32"
    assert manifest.input["shape"] == [1, 18, 2]
    assert manifest.calibration["id"] == f"synthetic-pairs-seed{SEED}-n256"
    assert manifest.calibration["samples"] == 256
    runner = load_runner(out / "lift_mlp_int8.tflite")
    assert isinstance(runner, TfliteLiftRunner)
    data = lift_parity_set(mhp.load_checkpoint(manifest.source_checkpoint["path"]), 3, seed=HELD_OUT_SEED)
    assert runner(data.uv).shape == (3, 18, 3)
    assert results["tflite", "int8"]["size_bytes"] < results["tflite", "fp32"]["size_bytes"] / 2  # 2.5x at width 64


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_every_lifter_artifact_passes_or_says_why_not(full_export):
    out, results = full_export
    assert set(results) == {
        ("onnx", "fp32"),
        *(("tflite", p) for p in ("fp32", "fp16", "dynamic", "int8")),
        *(("coreml", p) for p in ("fp32", "fp16", "int8")),
    }
    for (fmt, precision), result in results.items():
        if fmt == "coreml":
            assert result["parity"]["status"] == "spec checked on Linux; numeric parity needs macOS"
            assert (out / f"lift_mlp_{precision}.mlpackage").is_dir()
            continue
        assert result["parity"]["passed"], (fmt, precision, result["parity"])
    assert results["tflite", "fp32"]["parity"]["mm_error"]["max"] <= 0.05
    assert results["tflite", "fp16"]["parity"]["mm_error"]["mean"] <= 2.0
    fp32_ops = {"FULLY_CONNECTED", "ADD", "SUB", "MUL", "RESHAPE", "STRIDED_SLICE"}
    assert float_ops(out / "lift_mlp_fp32.tflite").keys() <= fp32_ops  # no CAST, no DEQUANTIZE, no custom op
    coreml = read_manifest(out / "lift_mlp_fp32.mlpackage")
    assert (coreml.task, coreml.input["shape"]) == ("lift", [1, 18, 2])
    with pytest.raises(RuntimeUnavailableError, match="needs macOS"):
        CoremlLiftRunner(out / "lift_mlp_fp32.mlpackage")
    result = check_artifact(ExportConfig(check=str(out / "lift_mlp_int8.tflite"), parity_samples=64))
    assert result["parity"]["passed"], result["parity"]
