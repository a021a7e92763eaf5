"""``mhp-bench`` from start to rows: find the targets, build one evaluation set per model, time and score each."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mhp.bench.host import Target, artifact_targets, benchmark_target
from mhp.bench.lift import is_lifter, lift_evaluation_set, lift_macs
from mhp.bench.machine import Machine, describe_machine
from mhp.bench.schema import BenchRow
from mhp.config import BenchConfig
from mhp.data import data_flag
from mhp.errors import MhpError
from mhp.eval.parity import HELD_OUT_SEED, LiftParitySet, ParitySet, Reference, parity_set, reference_outputs
from mhp.eval.pose import read_eval_prior
from mhp.limbs import LimbPrior, limb_prior
from mhp.models.checkpoint import load_checkpoint_and_config
from mhp.models.runner import TorchLiftRunner, TorchRunner
from mhp.runtime import SUFFIXES
from mhp.runtime.manifest import file_sha256
from mhp.util.fileio import writable_folder
from mhp.util.progress import bar

RUNTIMES = ("torch", "onnxruntime", "litert", "coreml")
DATA = ("synthetic", "h36m")


@dataclass
class ModelGroup:
    """Targets made from one architecture and configuration: they share the evaluation crops and the reference."""

    model_name: str
    model_kwargs: dict[str, Any]
    targets: list[Target] = field(default_factory=list)
    checkpoint: str | None = None
    loaded: tuple[Any, dict[str, Any]] | None = None  # (model, training config) once read


def check_config(cfg: BenchConfig) -> None:
    unknown = [r for r in cfg.runtimes if r not in RUNTIMES]
    if unknown:
        raise MhpError(f"unknown runtime {unknown[0]!r}; choose from {', '.join(RUNTIMES)}")
    data_flag(cfg.data, DATA)
    if not cfg.threads or min(cfg.threads) < 1:
        raise MhpError("--threads needs one or more positive thread counts, e.g. --threads 1,2")
    if cfg.samples < 1 or cfg.runs < 1 or cfg.warmup < 0:
        raise MhpError("--samples and --runs must be at least 1, --warmup at least 0")
    if not (cfg.artifacts or cfg.checkpoint or cfg.peer or cfg.ingest):
        raise MhpError("nothing to benchmark: pass --artifacts DIR, --checkpoint X, --peer M.tflite or --ingest F.json")
    writable_folder(cfg.out)  # the reports are written after the measurements: refuse now, not then
    if cfg.readme and not (Path(cfg.readme).is_file() and os.access(cfg.readme, os.W_OK)):
        raise MhpError(f"--readme {cfg.readme} is not a writable file; give the Markdown file whose table to replace")


def same_checkpoint(path: str, recorded: dict) -> bool:
    """Whether ``path`` (as the manifest recorded it: relative to where the export ran) is the exported checkpoint:
    a relative path read from another folder can name another run's file, so its sha256 must match."""
    return Path(path).is_file() and file_sha256(path) == recorded.get("sha256")


def group_targets(targets: list[Target], checkpoint: str | None) -> list[ModelGroup]:
    groups: dict[str, ModelGroup] = {}
    for target in targets:
        if target.manifest is None:
            continue
        kwargs = target.manifest.model_kwargs
        key = json.dumps([target.manifest.model, kwargs], sort_keys=True)
        group = groups.setdefault(key, ModelGroup(target.manifest.model, kwargs))
        group.targets.append(target)
        source = target.manifest.source_checkpoint.get("path")
        if group.checkpoint is None and source and same_checkpoint(source, target.manifest.source_checkpoint):
            group.checkpoint = source
    if checkpoint:
        model, config, _ = load_checkpoint_and_config(checkpoint)
        key = json.dumps([model.model_name, model.model_kwargs], sort_keys=True)
        group = groups.setdefault(key, ModelGroup(model.model_name, dict(model.model_kwargs)))
        group.checkpoint, group.loaded = checkpoint, (model, config)
    return list(groups.values())


def evaluation_set(model, cfg: BenchConfig, config: dict[str, Any]) -> tuple[ParitySet | LiftParitySet, str]:
    """The crops (2D poses for a lifter) every format of ``model`` is scored on, and a label saying what they are."""
    if is_lifter(model):
        return lift_evaluation_set(model, cfg)
    name, root = data_flag(cfg.data, DATA)
    if name == "h36m":
        from mhp.data import read_dataset

        annotations = read_dataset("h36m", root, "test", protocol=2)
        picks = np.unique(np.linspace(0, len(annotations) - 1, num=min(cfg.samples, len(annotations)), dtype=int))
        label = f"h36m protocol 2 (S9, S11), {len(picks)} of {len(annotations)} crops, GT boxes"
        return parity_set(model, annotations, picks), label
    from mhp.export.calibration import synthetic_scenes

    scenes = synthetic_scenes(model, config, cfg.samples, seed=HELD_OUT_SEED)
    return parity_set(model, scenes), f"synthetic held-out (seed {HELD_OUT_SEED}), {cfg.samples} crops"


def evaluation_prior(cfg: BenchConfig, data: ParitySet | LiftParitySet) -> LimbPrior:
    """The limb prior the plausibility of ``data``'s predictions is measured under: ``--limb-prior``'s file, else
    the prior of the crops' ground truth."""
    if cfg.limb_prior is None:
        try:
            return limb_prior(data.gt_cam, data.joint_set, source="measured on their ground truth")
        except MhpError as exc:
            raise MhpError(f"limb plausibility: {exc} (--samples 2 or more), or pass --limb-prior FILE") from None
    return read_eval_prior(cfg.limb_prior, data.joint_set)


def group_model(group: ModelGroup):
    """The reference model (from the checkpoint) or, without one, the architecture for geometry and MACs."""
    from mhp.models import create_model

    if group.loaded:
        return group.loaded
    if group.checkpoint:
        model, config, _ = load_checkpoint_and_config(group.checkpoint)
        return model, config
    return create_model(group.model_name, **group.model_kwargs), {}


def peer_targets(cfg: BenchConfig) -> list[Target]:
    from mhp.bench.peer import peer_precision

    targets = []
    for path in map(Path, cfg.peer):
        if not path.is_file():
            raise MhpError(f"--peer {path} does not exist; pass a .tflite model file")
        targets.append(Target(path.name, "tflite", peer_precision(path), path=path, peer_input=cfg.peer_input))
    return targets


def host_rows(cfg: BenchConfig, machine: Machine, *, progress: Callable[[BenchRow], None]) -> list[BenchRow]:
    """Every artifact, the torch reference and the peers, timed and scored on this machine."""
    from mhp.models.card import count_macs

    targets = artifact_targets(cfg.artifacts)
    runs = {"warmup": cfg.warmup, "runs": cfg.runs, "memory": cfg.memory, "accuracy": cfg.accuracy}
    rows: list[BenchRow] = []
    for target in targets:  # no manifest, export failed: one row each, saying why
        if target.error:
            rows += benchmark_target(
                target,
                cfg.threads,
                machine,
                data=None,
                reference=None,
                data_label="",
                gmacs=None,
                on_row=progress,
                **runs,
            )
    for group in group_targets(targets, cfg.checkpoint):
        model, config = group_model(group)
        data, label = evaluation_set(model, cfg, config)
        prior = evaluation_prior(cfg, data)
        label = f"{label}; limb prior {prior.source}"
        lifter = is_lifter(model)
        gmacs = (lift_macs(model) if lifter else count_macs(model)) / 1e9
        reference: Reference | Reference | None = None
        items = [t for t in group.targets if t.runtime in cfg.runtimes]
        if group.checkpoint and cfg.accuracy:
            reference = reference_outputs(TorchLiftRunner(model) if lifter else TorchRunner(model), data)
        if group.checkpoint and "torch" in cfg.runtimes:
            items.insert(0, Target(model.model_name, "torch", "fp32", path=Path(group.checkpoint), model=model))
        for target in items:
            rows += benchmark_target(
                target,
                cfg.threads,
                machine,
                data=data,
                reference=reference,
                data_label=label,
                gmacs=gmacs,
                limb_prior=prior,
                on_row=progress,
                **runs,
            )
    for target in peer_targets(cfg):
        rows += benchmark_target(
            target, cfg.threads, machine, data=None, reference=None, data_label="", gmacs=None, on_row=progress, **runs
        )
    if cfg.pipeline:
        from mhp.bench.pipeline import pipeline_rows

        images = [t for t in targets if image_model(t) and t.runtime in cfg.runtimes]
        timing = {"warmup": cfg.warmup, "runs": cfg.runs, "on_row": progress}
        rows += pipeline_rows(images, peer_targets(cfg), cfg.pipeline, cfg.threads, machine, **timing)
    return rows


def image_model(target: Target) -> bool:
    """An exported pose model this machine runs on camera frames (not a lifter, not Core ML, not failed)."""
    manifest = target.manifest
    return not target.error and target.format in ("tflite", "onnx") and bool(manifest.geometry.get("input_size"))


def progress_printer(total: int, stream=None) -> Callable[[BenchRow], None]:
    """A one-line progress bar per finished row: ``[#####-----] 5/10 litert lpski_int8.tflite 1t 16.1 ms``."""
    done = [0]

    def show(row: BenchRow) -> None:
        done[0] += 1
        latency = f"{row.latency_p50_ms:.2f} ms" if row.latency_p50_ms is not None else row.status
        threads = f"{row.threads}t" if row.threads else ""
        name = Path(row.artifact).name
        print(
            f"{bar(done[0], total)} {done[0]}/{total} {row.runtime} {name} {threads} {latency}",
            file=stream or sys.stderr,  # looked up per line: whatever stderr is at the time
            flush=True,
        )

    return show


def expected_rows(cfg: BenchConfig) -> int:
    """How many timed rows a host run will produce (for the progress bar)."""
    count = 0
    for entry in map(Path, cfg.artifacts):
        files = list(entry.iterdir()) if entry.is_dir() else [entry]
        count += sum(p.suffix in SUFFIXES for p in files)
    count += len(cfg.peer) + (1 if cfg.checkpoint or cfg.artifacts else 0)
    return count * len(cfg.threads) * (1 + len(cfg.pipeline))  # the pipeline rows: at most one per count


def collect_rows(cfg: BenchConfig, *, machine: Machine | None = None) -> tuple[list[BenchRow], Machine]:
    """All rows this invocation asks for: host, Android device, and ingested app files."""
    check_config(cfg)
    machine = machine or describe_machine()
    rows: list[BenchRow] = []
    if cfg.phone is not None:
        if cfg.phone != "android":
            raise MhpError(
                f"--phone {cfg.phone!r} is not supported; use android (iPhones: --ingest the app's benchmark JSON)"
            )
        rows += android_device_rows(cfg)
    elif cfg.artifacts or cfg.checkpoint or cfg.peer:
        rows += host_rows(cfg, machine, progress=progress_printer(expected_rows(cfg)))
    if cfg.ingest:
        from mhp.bench.device import ingest_rows

        for path in cfg.ingest:
            rows += ingest_rows(Path(path))
    return rows, machine


def android_device_rows(cfg: BenchConfig) -> list[BenchRow]:
    from mhp.bench.device import android_rows

    if not cfg.benchmark_model:
        raise MhpError("--phone android needs --benchmark-model, TFLite's benchmark_model binary for the phone")
    files = [p for p in (t.path for t in artifact_targets(cfg.artifacts)) if p is not None and p.suffix == ".tflite"]
    if not files:
        raise MhpError("--phone android needs --artifacts with at least one .tflite")
    return android_rows(
        files,
        benchmark_model=Path(cfg.benchmark_model),
        serial=cfg.serial,
        adb=cfg.adb,
        runs=cfg.runs,
        warmup_runs=cfg.warmup,
    )
