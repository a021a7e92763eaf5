"""Fuzzed export manifests, export reports (read by mhp-bench) and the phone apps' benchmark files."""

import dataclasses
import json
import math
import types
import typing
from pathlib import Path

import pytest
from hypothesis import given

from mhp.bench.device import APP_PLATFORMS, ingest_rows
from mhp.bench.host import failed_exports
from mhp.bench.schema import EXPORT_FAILED, FIELDS, STATUSES, BenchRow
from mhp.runtime.manifest import ExportManifest, manifest_path, read_manifest, write_manifest
from tests.fuzz.harness import FileSwap, fast_folder, json_variants, outcome

APP_FILE = Path(__file__).parents[1] / "bench" / "fixtures" / "app_bench_ios.json"
MANIFEST = ExportManifest(
    artifact="lpski_int8.tflite",
    format="tflite",
    precision="int8",
    model="LPSKI",
    model_kwargs={"num_joints": 18, "width_mult": 1.0},
    input={"name": "image", "shape": [1, 256, 256, 3], "layout": "NHWC", "dtype": "uint8"},
    outputs=[{"name": "heatmaps", "shape": [1, 18, 64, 64, 64]}, {"name": "coords", "shape": [1, 18, 3]}],
    decode="host_soft_argmax",
    joints={"set": "H36M", "names": ["Pelvis"], "root": 0},
    geometry={"input_size": 256, "heatmap_size": [64, 64], "depth_bins": 64},
    source_checkpoint={"path": "best.pt", "sha256": "0" * 64},
    tools={"torch": "2.13.0"},
    calibration={"id": "synthetic", "samples": 256},
    parity={"status": "passed", "passed": True},
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return fast_folder(tmp_path_factory, "fuzz-manifests")


def test_manifest(folder):
    artifact = folder / "lpski_int8.tflite"
    write_manifest(artifact, MANIFEST)
    hints = typing.get_type_hints(ExportManifest)

    def checked(manifest: ExportManifest) -> None:
        for f in dataclasses.fields(ExportManifest):
            value, hint = getattr(manifest, f.name), hints[f.name]
            union = typing.get_origin(hint) in (typing.Union, types.UnionType)
            kinds = tuple(typing.get_origin(a) or a for a in (typing.get_args(hint) if union else (hint,)))
            assert isinstance(value, kinds), f.name
            assert not isinstance(value, bool) or bool in kinds, f.name
        assert all(isinstance(name, str) for name in manifest.output_names)

    with FileSwap(manifest_path(artifact)) as swap:

        @given(json_variants(MANIFEST.to_dict()))
        def run(data: bytes) -> None:
            swap.put(data)
            outcome("export manifest", lambda: read_manifest(artifact), checked)

        run()


def test_export_report(folder):
    failed = {"status": EXPORT_FAILED, "failures": ["onnx2tf: unsupported op"]}
    report = {
        "checkpoint": "best.pt",
        "artifacts": [
            {"path": "export/lpski_fp32.onnx", "format": "onnx", "precision": "fp32", "parity": {"status": "passed"}},
            {"path": "export/lpski_int8.tflite", "format": "tflite", "precision": "int8", "parity": failed},
        ],
    }
    path = folder / "export_report.json"
    path.write_text(json.dumps(report))

    def checked(targets) -> None:
        for target in targets:
            assert target.status == EXPORT_FAILED
            assert all(isinstance(v, str) for v in (target.name, target.format, target.precision, target.error))

    with FileSwap(path) as swap:

        @given(json_variants(report))
        def run(data: bytes) -> None:
            swap.put(data)
            outcome("export report (mhp-bench)", lambda: failed_exports(path), checked)

        run()


def check_rows(rows: list[BenchRow]) -> None:
    assert rows
    for row in rows:
        assert isinstance(row, BenchRow)
        assert row.platform in APP_PLATFORMS
        assert row.status in STATUSES
        for name in FIELDS:
            value = getattr(row, name)
            if isinstance(value, float):
                assert math.isfinite(value), name
            if isinstance(value, int | float) and not isinstance(value, bool) and name != "delta_mpjpe_mm":
                assert value >= 0, name


def test_app_benchmark_file(folder):
    path = folder / "app_bench.json"
    path.write_bytes(APP_FILE.read_bytes())
    with FileSwap(path) as swap:

        @given(json_variants(json.loads(APP_FILE.read_text())))
        def run(data: bytes) -> None:
            swap.put(data)
            outcome("mhp-bench --ingest", lambda: ingest_rows(path), check_rows)

        run()
