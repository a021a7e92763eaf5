"""``mhp-export``: plan the artifacts, build calibration and parity data, export, gate, write manifests."""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from mhp.config import ExportConfig
from mhp.errors import MhpError
from mhp.eval.parity import LiftParitySet, ParitySet, Reference, compare, reference_outputs
from mhp.export import coreml as coreml_export
from mhp.export import lifter as lifter_export
from mhp.export import tflite as tflite_export
from mhp.export.calibration import CalibrationSet
from mhp.export.contract import input_contract
from mhp.export.coreml_spec import spec_report
from mhp.export.graph import BlockStem, ExportModule, FoldedStem
from mhp.export.onnx import INPUT_NAME, export_onnx, quantize_qdq
from mhp.export.outcome import destination, failed_name, merged_report, remove_failed_copy
from mhp.export.sources import DataChoice, calibration_choice, image_calibration, image_parity_set, parity_choice
from mhp.models import model_task
from mhp.models.checkpoint import load_checkpoint_and_config
from mhp.models.runner import TorchRunner
from mhp.runtime import load_runner
from mhp.runtime.base import RuntimeUnavailableError
from mhp.runtime.manifest import (
    ExportManifest,
    check_artifact_matches,
    file_sha256,
    manifest_path,
    model_records,
    read_manifest,
    write_manifest,
)
from mhp.util.fileio import (
    acquire_lock,
    disk_full_cause,
    disk_full_error,
    path_size,
    remove_stale_temps,
    replace_path,
    writable_folder,
    write_text_atomic,
)
from mhp.util.optional import installed_versions


@dataclass(frozen=True)
class Format:
    name: str
    suffix: str
    precisions: tuple[str, ...]
    runs_on: str  # where its parity check can run


FORMATS = {
    "onnx": Format("onnx", ".onnx", ("fp32", "int8"), "anywhere (onnxruntime)"),
    "tflite": Format("tflite", ".tflite", tflite_export.PRECISIONS, "anywhere (LiteRT)"),
    "coreml": Format("coreml", ".mlpackage", coreml_export.PRECISIONS, "macOS only"),
}
TOOLS = ("torch", "onnx", "onnxsim", "onnxruntime", "onnx2tf", "tensorflow", "ai-edge-litert", "coremltools")
LOCK = ".mhp-export.lock"
STAGING_PREFIX = ".mhp-export-"
REPORT = "export_report.json"


def plan(cfg: ExportConfig) -> list[tuple[Format, str]]:
    """(format, precision) pairs to write, in order; a precision a format lacks is skipped unless asked alone."""
    targets = list(FORMATS) if cfg.target == "all" else [cfg.target]
    if any(t not in FORMATS for t in targets):
        raise MhpError(f"unknown --target {cfg.target!r}; choose onnx, tflite, coreml or all")
    wanted = list(cfg.precision) + ["int8"] * cfg.int8 + ["fp16"] * cfg.fp16
    known = {p for f in FORMATS.values() for p in f.precisions}
    unknown = [p for p in wanted if p not in known]
    if unknown:
        raise MhpError(f"unknown precision {unknown[0]!r}; choose from {', '.join(sorted(known))}")
    pairs = [(FORMATS[t], p) for t in targets for p in (wanted or FORMATS[t].precisions) if p in FORMATS[t].precisions]
    if not pairs:
        raise MhpError(
            f"--target {cfg.target} has no {'/'.join(wanted)} export; it offers {FORMATS[targets[0]].precisions}"
        )
    return pairs


def for_task(pairs: list[tuple[Format, str]], task: str) -> list[tuple[Format, str]]:
    """The planned pairs a model of ``task`` has: ONNX INT8 is built for the image models (a lifter's INT8 is
    TFLite's, with float32 input and output)."""
    if task != "lift":
        return pairs
    kept = [(f, p) for f, p in pairs if (f.name, p) != ("onnx", "int8")]
    if not kept:
        raise MhpError("a lifter has no ONNX INT8 export; use --target tflite --int8 (float32 poses in and out)")
    return kept


@contextlib.contextmanager
def export_lock(out: Path) -> Iterator[None]:
    """Hold ``out/.mhp-export.lock`` while writing into ``out``: a second export into the same folder is refused
    at once (an artifact and its manifest must come from the same export). The lock dies with its process."""
    with acquire_lock(
        out / LOCK, f"another mhp-export is writing to {out}; wait for it to finish or choose another --out"
    ):
        yield


@contextlib.contextmanager
def staging_folder(out: Path, names: list[str]) -> Iterator[Path]:
    """A fresh hidden folder in ``out`` where artifacts are converted and checked before they are moved in;
    what killed exports left behind (staging folders, temporary files of ``names``) is removed first."""
    for stale in out.glob(f"{STAGING_PREFIX}*"):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
    remove_stale_temps(out, names)
    with tempfile.TemporaryDirectory(prefix=STAGING_PREFIX, dir=out) as stage:
        yield Path(stage).resolve()


def base_manifest(model, checkpoint: str, fmt: Format, precision: str, artifact: Path) -> ExportManifest:
    joints, geometry = model_records(model)
    size, (width, height), depth = model.input_size, model.heatmap_size, model.depth_bins
    joints_n = model.num_joints
    coords = [
        {"name": "coords", "shape": [1, joints_n, 3], "dtype": "float32", "units": "voxels (x, y, z)"},
        {"name": "confidence", "shape": [1, joints_n], "dtype": "float32", "units": "probability of the peak voxel"},
    ]
    heatmaps = {
        "name": "heatmaps",
        "shape": [1, height, width, joints_n * depth],
        "dtype": "int8",
        "units": "logits, channel j*D + d; dequantise with the tensor's scale/zero point, then soft-argmax",
    }
    if fmt.name == "onnx":
        contract = input_contract(
            model, name=INPUT_NAME, shape=["batch", 3, size, size], layout="NCHW", dtype="float32"
        )
        coords = [{**o, "shape": ["batch", *o["shape"][1:]]} for o in coords]
        if precision == "int8":  # the scale and zero point are added when the graph is quantised
            coords = [{**heatmaps, "shape": ["batch", *heatmaps["shape"][1:]], "dtype": "uint8"}]
    elif fmt.name == "tflite":
        contract = input_contract(model, name=INPUT_NAME, shape=[1, size, size, 3], layout="NHWC", dtype="uint8")
        if precision == "int8":
            coords = [heatmaps]
    else:
        contract = input_contract(
            model, name=INPUT_NAME, shape=[1, 3, size, size], layout="ImageType RGB", dtype="image"
        )
    return ExportManifest(
        artifact=artifact.name,
        format=fmt.name,
        precision=precision,
        model=model.model_name,
        model_kwargs=dict(model.model_kwargs),
        input=contract,
        outputs=coords,
        decode="host_soft_argmax" if fmt.name in ("tflite", "onnx") and precision == "int8" else "in_graph",
        joints=joints,
        geometry=geometry,
        source_checkpoint={"path": str(checkpoint), "sha256": file_sha256(checkpoint)},
        tools=installed_versions(TOOLS),
    )


def gate(
    path: Path, manifest: ExportManifest, reference: Reference | None, data: ParitySet | None, threads: int, label: str
) -> dict:
    """The parity report of one artifact; ``label`` says which held-out data it ran on."""
    if data is None or reference is None:
        return {"status": "skipped (--no-check)", "passed": None}
    try:
        candidate = load_runner(path, threads=threads, manifest=manifest)
    except RuntimeUnavailableError as exc:
        if manifest.format == "coreml":  # its declared inputs and outputs can still be read and compared
            return {**spec_report(path, manifest, str(exc)), "data": label}
        return {"status": "not run: needs macOS", "passed": None, "reason": str(exc), "data": label}
    report = compare(reference, candidate, data, data.budgets[manifest.precision])
    return {**report, "data": label, "status": "passed" if report["passed"] else "FAILED"}


def parity_inputs(
    choice: DataChoice, model, config: dict[str, Any], samples: int, tables: dict | None = None
) -> tuple[ParitySet | LiftParitySet, Reference, str]:
    """Held-out data (crops for image models, 2D poses for lifters), the float32 torch model's outputs on it and
    what the data is, in words."""
    if model_task(model.model_name) == "lift":
        data, reference = lifter_export.lift_parity_inputs(choice, model, config, samples, tables)
        return data, reference, data.label
    data, label = image_parity_set(choice, model, config, samples, tables)
    return data, reference_outputs(TorchRunner(model), data), label


def calibration_for(
    choice: DataChoice, cfg: ExportConfig, model, config: dict[str, Any], tables: dict | None = None
) -> CalibrationSet | lifter_export.LiftCalibration:
    if model_task(model.model_name) == "lift":
        return lifter_export.lift_calibration(choice, model, config, cfg.calib_samples, tables)
    return image_calibration(choice, model, config, cfg.calib_samples, tables)


def write_artifact(
    model,
    checkpoint: str,
    fmt: Format,
    precision: str,
    path: Path,
    calibration: CalibrationSet | None,
    work: Path,
    cache: dict[str, Any],
) -> ExportManifest:
    """Convert and write one artifact; returns its manifest (parity not yet run). ``cache`` keeps the
    SavedModel and the folded first convolution that every TFLite precision is converted from."""
    manifest = base_manifest(model, checkpoint, fmt, precision, path)
    metadata = {
        "description": f"mhp {model.model_name} 3D pose, {precision} {fmt.name}",
        "mhp_manifest": json.dumps({k: manifest.to_dict()[k] for k in ("joints", "geometry", "input")}),
    }
    if fmt.name == "onnx":
        if precision == "fp32":
            export_onnx(ExportModule(model, outputs="coords"), path, dynamic_batch=True, metadata=metadata)
            return manifest
        # INT8: heatmaps out, decoded on the host; the first convolution over 2x2 pixel blocks where it fits
        module = ExportModule(model, outputs="heatmaps_nhwc", stem="blocks" if BlockStem.fits(model) else "model")
        export_onnx(module, work / "heatmaps.onnx", dynamic_batch=True, metadata=metadata)
        quantisation = quantize_qdq(work / "heatmaps.onnx", path, calibration.pixels)
        outputs = [{**output, "quantization": quantisation} for output in manifest.outputs]
        return replace(manifest, outputs=outputs, calibration=calibration.record())
    if fmt.name == "coreml":
        coreml_export.export_coreml(model, path, precision, metadata=metadata)
        return manifest
    if "saved_model" not in cache:
        heat = work / "heatmaps.onnx"
        # the first convolution is built in TensorFlow with the normalisation folded in (FoldedStem); onnx2tf
        # converts the rest, which starts from that layer's output
        module = ExportModule(model, outputs="heatmaps", stem="outside")
        export_onnx(module, heat, dynamic_batch=False, metadata={})
        cache["saved_model"] = tflite_export.onnx_to_saved_model(heat, work / "onnx2tf")
        cache["stem"] = FoldedStem.of(model).arrays()
    flatbuffer = tflite_export.convert_saved_model(
        cache["saved_model"],
        precision,
        input_size=model.input_size,
        num_joints=model.num_joints,
        depth_bins=model.depth_bins,
        stem=cache["stem"],
        calibration=calibration.pixels if calibration is not None and precision == "int8" else None,
    )
    tflite_export.write_tflite(flatbuffer, path)
    manifest = replace(manifest, graph=tflite_export.graph_report(path))
    return replace(manifest, calibration=calibration.record()) if precision == "int8" else manifest


def failed_export(path: Path, fmt: Format, precision: str, exc: Exception, started: float) -> dict[str, Any]:
    """The result of an artifact whose conversion crashed: nothing written, the reason kept."""
    reason = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"[:300]
    return {
        "path": str(path),
        "format": fmt.name,
        "precision": precision,
        "size_bytes": None,
        "seconds": round(time.monotonic() - started, 1),
        "parity": {"status": "export failed", "passed": False, "failures": [reason]},
        "graph": None,
    }


def artifact_name(model_name: str, precision: str, suffix: str) -> str:
    """``lpski_int8.tflite``: the file names the demo apps bundle (android_demo's asset task checks them)."""
    return f"{model_name.lower() or 'model'}_{precision}{suffix}"


def export_folder(cfg: ExportConfig) -> Path:
    """``--out``, else ``runs/export/RUN``: RUN the name of the checkpoint's folder (``runs/train/best.pt`` ->
    ``runs/export/train``), the default output root of every command being ``runs/<command>``."""
    if cfg.out:
        return Path(cfg.out)
    return Path("runs/export") / (Path(cfg.checkpoint).resolve().parent.name or "model")


def export_checkpoint(cfg: ExportConfig, *, log=print) -> list[dict[str, Any]]:
    """Write every planned artifact with its manifest; returns one result per artifact (path, parity, ...).

    Each artifact and its manifest are written and gated in a staging folder inside ``out``, then renamed over
    the old pair: a kill or a full disk leaves every file old or new, and a kill between the two renames (an
    old-manifest/new-artifact pair) is refused by :func:`read_manifest` (sha256). One export at a time per
    folder (:func:`export_lock`).
    """
    if not cfg.checkpoint:
        raise MhpError("--checkpoint is required (or --check ARTIFACT to re-check an export)")
    pairs = plan(cfg)
    model, config, _ = load_checkpoint_and_config(
        cfg.checkpoint, model=cfg.backbone, num_joints=cfg.num_joints, width_mult=cfg.width_mult
    )
    pairs = for_task(pairs, model_task(model.model_name))
    out = writable_folder(export_folder(cfg))
    calibrate = any(p == "int8" and f.name in ("tflite", "onnx") for f, p in pairs)
    calib_choice = calibration_choice(cfg.calib_data, config) if calibrate else None  # both checked before any work
    check_choice = None if cfg.no_check else parity_choice(cfg.parity_data, config)
    tables: dict = {}  # a dataset's training split, read once for calibration and parity
    calibration = None if calib_choice is None else calibration_for(calib_choice, cfg, model, config, tables)
    if calibration is not None:
        log(f"calibration: {calibration.description}")
    data, reference, label = None, None, ""
    if check_choice is not None:
        data, reference, label = parity_inputs(check_choice, model, config, cfg.parity_samples, tables)
        log(f"parity: {label}")
    tables.clear()  # the parity set keeps only its slice
    names = [artifact_name(model.model_name, precision, fmt.suffix) for fmt, precision in pairs]
    results = []
    kinds = [*names, *(failed_name(Path(n)).name for n in names)]
    with export_lock(out), staging_folder(out, [*kinds, *(n + ".json" for n in kinds), REPORT]) as stage:
        cache: dict[str, Any] = {}
        for number, ((fmt, precision), name) in enumerate(zip(pairs, names, strict=True), 1):
            started = time.monotonic()
            log(f"[{number}/{len(pairs)}] {name}: converting{'' if cfg.no_check else ', then its parity gate'}")
            path, staged = out / name, stage / name
            try:
                write = write_artifact
                if model_task(model.model_name) == "lift":
                    write = partial(lifter_export.write_lift_artifact, tools=installed_versions(TOOLS))
                manifest = write(model, cfg.checkpoint, fmt, precision, staged, calibration, stage, cache)
            except Exception as exc:  # a converter crash fails this artifact and is reported; the others go on
                full = disk_full_cause(exc)
                if full is not None:
                    raise disk_full_error(path, full) from None
                if isinstance(exc, MhpError):
                    raise
                results.append(failed_export(path, fmt, precision, exc, started))
                log(f"FAILED to write {path}: {results[-1]['parity']['failures'][0]}")
                continue
            parity = gate(staged, manifest, reference, data, cfg.threads, label)
            target = destination(path, parity["passed"])  # a failed gate keeps a passing artifact
            staged_manifest = write_manifest(staged, replace(manifest, artifact=target.name, parity=parity))
            replace_path(staged, target)  # everything that takes space is written; two renames move it in
            replace_path(staged_manifest, manifest_path(target))
            if target == path and parity["passed"]:
                remove_failed_copy(path)
            result = {
                "path": str(target),
                "format": fmt.name,
                "precision": precision,
                "size_bytes": path_size(path),
                "seconds": round(time.monotonic() - started, 1),
                "parity": parity,
                "graph": manifest.graph,
            }
            if target != path:
                result["kept"] = str(path)
            results.append(result)
            kept = f"; kept the passing {path.name} in its place" if target != path else ""
            log(
                f"wrote {target} ({result['size_bytes'] / 1e6:.2f} MB, {result['seconds']:.0f} s): "
                f"parity {parity['status']}{kept}"
            )
        write_text_atomic(out / REPORT, merged_report(out, REPORT, cfg.checkpoint, results))
    return results


def check_artifact(cfg: ExportConfig) -> dict[str, Any]:
    """Re-run an artifact's parity gate against its source checkpoint (or ``--checkpoint``) and update its manifest."""
    path = Path(cfg.check)
    if not path.exists():
        raise MhpError(f"--check {path} does not exist; pass an artifact written by mhp-export")
    manifest = read_manifest(path)
    checkpoint = cfg.checkpoint or manifest.source_checkpoint["path"]
    if not Path(checkpoint).is_file():
        raise MhpError(f"the source checkpoint {checkpoint} is gone; pass --checkpoint with the one exported")
    model, config, _ = load_checkpoint_and_config(
        checkpoint, model=cfg.backbone, num_joints=cfg.num_joints, width_mult=cfg.width_mult
    )
    if manifest.task != model_task(model.model_name):
        raise MhpError(
            f"{path.name} is a {manifest.task} artifact but {checkpoint} holds {model.model_name}; "
            "pass --checkpoint with the one exported"
        )
    choice = parity_choice(cfg.parity_data, config)
    data, reference, label = parity_inputs(choice, model, config, cfg.parity_samples)
    parity = gate(path, manifest, reference, data, cfg.threads, label)
    with export_lock(path.parent):
        check_artifact_matches(path, manifest)  # not replaced by an export while the gate ran
        write_manifest(path, replace(manifest, parity=parity))
    return {"path": str(path), "format": manifest.format, "precision": manifest.precision, "parity": parity}
