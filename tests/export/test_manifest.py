"""Manifests: plan of artifacts, round trip, and one-line errors for missing or foreign files."""

import json

import pytest

import mhp
from mhp.config import ExportConfig
from mhp.errors import MhpError
from mhp.export.pipeline import for_task, plan
from mhp.runtime.manifest import ExportManifest, model_records, read_manifest, write_manifest


def manifest(tmp_path):
    model = mhp.create_model("LPSKI", width_mult=0.25, input_size=64)
    joints, geometry = model_records(model)
    return ExportManifest(
        artifact="m.onnx", format="onnx", precision="fp32", model="LPSKI", model_kwargs={}, input={"name": "image"},
        outputs=[{"name": "coords"}], decode="in_graph", joints=joints, geometry=geometry,
        source_checkpoint={"path": "x.pt", "sha256": "0"}, tools={},
    )  # fmt: skip


def test_round_trip_and_records(tmp_path):
    written = manifest(tmp_path)
    path = write_manifest(tmp_path / "m.onnx", written)
    assert path.name == "m.onnx.json"
    assert read_manifest(tmp_path / "m.onnx") == written
    assert written.joints["names"][0] == "Pelvis"
    assert len(written.joints["flip_pairs"]) == 6
    assert written.geometry["heatmap_size"] == [8, 8]
    assert written.geometry["depth_bins"] == 32


def test_broken_manifests_are_named(tmp_path):
    with pytest.raises(MhpError, match=r"m\.onnx\.json is missing"):
        read_manifest(tmp_path / "m.onnx")
    (tmp_path / "m.onnx.json").write_text("{not json")
    with pytest.raises(MhpError, match="not valid JSON"):
        read_manifest(tmp_path / "m.onnx")
    (tmp_path / "m.onnx.json").write_text(json.dumps({"hello": 1}))
    with pytest.raises(MhpError, match="not an mhp export manifest"):
        read_manifest(tmp_path / "m.onnx")


def test_plan_of_artifacts():
    every = plan(ExportConfig(checkpoint="x"))
    assert [(f.name, p) for f, p in every] == [
        ("onnx", "fp32"), ("onnx", "int8"),
        ("tflite", "fp32"), ("tflite", "fp16"), ("tflite", "dynamic"), ("tflite", "int8"),
        ("coreml", "fp32"), ("coreml", "fp16"), ("coreml", "int8"),
    ]  # fmt: skip
    assert [(f.name, p) for f, p in plan(ExportConfig(target="tflite", int8=True))] == [("tflite", "int8")]
    with pytest.raises(MhpError, match="unknown --target 'tensorrt'"):
        plan(ExportConfig(target="tensorrt"))
    with pytest.raises(MhpError, match="unknown precision 'int4'"):
        plan(ExportConfig(precision=("int4",)))
    with pytest.raises(MhpError, match="--target onnx has no fp16 export"):
        plan(ExportConfig(target="onnx", fp16=True))


def test_lifters_have_no_onnx_int8():
    every = plan(ExportConfig(checkpoint="x"))
    assert ("onnx", "int8") in [(f.name, p) for f, p in for_task(every, "pose")]
    assert ("onnx", "int8") not in [(f.name, p) for f, p in for_task(every, "lift")]
    assert len(for_task(every, "lift")) == len(every) - 1
    with pytest.raises(MhpError, match="a lifter has no ONNX INT8 export; use --target tflite --int8"):
        for_task(plan(ExportConfig(target="onnx", int8=True)), "lift")
