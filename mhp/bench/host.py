"""Benchmark artifacts on this machine: each (artifact, runtime, threads) gets latency, memory and accuracy.

Every artifact is run through the same :class:`~mhp.runtime.base.Runner` the parity gates use, on the same
evaluation crops as the torch float32 model, so ΔMPJPE is the difference one user would see.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from mhp.bench.latency import LatencyStats, time_calls
from mhp.bench.machine import Machine
from mhp.bench.memory import peak_memory_mb
from mhp.bench.schema import ACCURACY_FAILED, EXPORT_FAILED, NOT_SCORED, PASSED, SKIPPED, BenchRow
from mhp.errors import MhpError
from mhp.eval.parity import (
    Budget,
    LiftParitySet,
    ParitySet,
    Reference,
    accuracy_mm,
    compare_outputs,
    health_failures,
)
from mhp.limbs import LimbPrior, plausibility
from mhp.runtime import SUFFIXES, load_runner
from mhp.runtime.base import Runner, RuntimeUnavailableError
from mhp.runtime.manifest import ExportManifest, read_manifest
from mhp.util.fileio import path_size, read_json_file
from mhp.util.optional import MissingDependencyError

FORMAT_RUNTIMES = {"torch": "torch", "onnx": "onnxruntime", "tflite": "litert", "coreml": "coreml"}
RUNTIME_EXTRAS = {"onnxruntime": "runtime", "litert": "runtime", "coreml": "coreml", "torch": ""}


@dataclass(frozen=True)
class Target:
    """One thing to time: an exported artifact (with its manifest), the torch model, or a peer model."""

    name: str
    format: str
    precision: str
    path: Path | None = None
    manifest: ExportManifest | None = None
    model: Any = None  # the torch model (format "torch")
    peer_input: int | None = None
    error: str = ""  # why it cannot be benchmarked (no manifest, export failed)
    status: str = ""  # EXPORT_FAILED / SKIPPED when error is set

    @property
    def runtime(self) -> str:
        return FORMAT_RUNTIMES[self.format]


@dataclass(frozen=True)
class Measurement:
    stats: LatencyStats
    init_ms: float
    peak_memory_mb: float | None
    coords: np.ndarray | None  # (N, J, 3) on the evaluation crops, when scored


def artifact_targets(paths: Iterable[str | Path]) -> list[Target]:
    """Every artifact in the given folders (and files), plus the failed exports their reports list."""
    targets: list[Target] = []
    for entry in map(Path, paths):
        if not entry.exists():
            raise MhpError(f"--artifacts {entry} does not exist; pass a folder written by mhp-export or an artifact")
        files = sorted(p for p in entry.iterdir() if p.suffix in SUFFIXES) if entry.is_dir() else [entry]
        if entry.is_dir() and not files and not (entry / "export_report.json").is_file():
            raise MhpError(f"--artifacts {entry} holds no .onnx, .tflite or .mlpackage; run mhp-export first")
        if entry.is_file() and entry.suffix not in SUFFIXES:
            raise MhpError(f"{entry} is not an artifact mhp can run; expected {', '.join(SUFFIXES)}")
        targets += [artifact_target(p) for p in files]
        if entry.is_dir():
            targets += failed_exports(entry / "export_report.json")
    return targets


def artifact_target(path: Path) -> Target:
    fmt = SUFFIXES[path.suffix]
    try:
        manifest = read_manifest(path)
    except MhpError as exc:
        return Target(path.name, fmt, "?", path=path, error=str(exc), status=SKIPPED)
    return Target(path.name, manifest.format, manifest.precision, path=path, manifest=manifest)


def failed_exports(report: Path) -> list[Target]:
    """Rows for artifacts the export report says failed to convert (ultralytics' "export failed")."""
    if not report.is_file():
        return []
    content = read_json_file(report, fix="re-run mhp-export")
    artifacts = content.get("artifacts", []) if isinstance(content, dict) else []
    targets = []
    for i, entry in enumerate(artifacts if isinstance(artifacts, list) else []):
        parity = entry.get("parity") if isinstance(entry, dict) else None
        if not isinstance(parity, dict) or parity.get("status") != EXPORT_FAILED:
            continue
        path, fmt, precision = (entry.get(k) for k in ("path", "format", "precision"))
        failures = parity.get("failures", [])
        if not (all(isinstance(v, str) and v for v in (path, fmt, precision)) and _texts(failures)):
            raise MhpError(
                f"{report}: artifacts[{i}] failed to export but lacks its path, format, precision or failures "
                "(text); re-run mhp-export"
            )
        targets.append(Target(Path(path).name, fmt, precision, error="; ".join(failures), status=EXPORT_FAILED))
    return targets


def _texts(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def make_runner(target: Target, threads: int) -> Runner:
    """The runner for a target; raises RuntimeUnavailableError / MissingDependencyError when it cannot run."""
    if target.format == "torch":
        from mhp.bench.lift import is_lifter
        from mhp.models.runner import TorchLiftRunner, TorchRunner

        return TorchLiftRunner(target.model) if is_lifter(target.model) else TorchRunner(target.model, batch_size=1)
    if target.peer_input:
        from mhp.bench.peer import PeerRunner

        return PeerRunner(target.path, input_size=target.peer_input, threads=threads)
    return load_runner(target.path, threads=threads, manifest=target.manifest)


def measure(
    target: Target,
    threads: int,
    data: ParitySet | LiftParitySet,
    *,
    warmup: int,
    runs: int,
    score: bool,
    memory: bool,
) -> Measurement:
    """Load the runner (timed), time ``runs`` single-crop inferences, optionally run the evaluation crops,
    and measure the peak memory of a fresh load in a child process."""
    with ThreadCount(threads, torch_model=target.format == "torch"):
        started = time.perf_counter()
        runner = make_runner(target, threads)
        init_ms = (time.perf_counter() - started) * 1000
        if isinstance(data, LiftParitySet):  # a lifter: one normalised 2D pose per call, (N, J, 3) mm out
            pose = data.uv[:1]
            stats = time_calls(lambda: runner(pose), warmup=warmup, runs=runs)
            coords = runner(data.uv) if score else None
        else:
            crop = runner.example_input() if target.peer_input else data.pixels[:1]
            stats = time_calls(lambda: runner.pose(crop), warmup=warmup, runs=runs)
            coords = runner(data.pixels) if score else None
    kind = "peer" if target.peer_input else target.format
    peak = peak_memory_mb(kind, target.path, threads, getattr(runner, "input_size", None)) if memory else None
    return Measurement(stats, init_ms, peak, coords)


class ThreadCount:
    """torch's intra-op thread count for the block (the other runtimes take ``threads`` per session)."""

    def __init__(self, threads: int, *, torch_model: bool) -> None:
        self.threads, self.active = threads, torch_model

    def __enter__(self) -> ThreadCount:
        if self.active:
            import torch

            self.previous = torch.get_num_threads()
            torch.set_num_threads(self.threads)
        return self

    def __exit__(self, *exc) -> None:
        if self.active:
            import torch

            torch.set_num_threads(self.previous)


def base_row(target: Target, threads: int | None, machine: Machine) -> BenchRow:
    return BenchRow(
        model=target.manifest.model if target.manifest else target.name,
        format=target.format,
        precision=target.precision,
        runtime=target.runtime,
        threads=threads,
        status=target.status or PASSED,
        reason=target.error,
        delegate="xnnpack" if target.format == "tflite" else "cpu",
        device=machine.cpu,
        artifact=str(target.path or target.name),
        input_size=input_size(target),
        size_bytes=weight_bytes(target.model) if target.model is not None else target.path and path_size(target.path),
    )


def input_size(target: Target) -> int | None:
    if target.peer_input:
        return target.peer_input
    if target.manifest is not None:
        return target.manifest.geometry.get("input_size")  # lifters take 2D joints, no image
    return getattr(target.model, "input_size", None)


def weight_bytes(model) -> int:
    """The torch model's float32 weights and buffers (the checkpoint file also holds optimiser state)."""
    return sum(t.numel() * t.element_size() for t in model.state_dict().values())


def timed_row(row: BenchRow, m: Measurement, machine: Machine, gmacs: float | None) -> BenchRow:
    achieved = gmacs / (m.stats.p50_ms / 1000) if gmacs else None
    peak = machine.peak_gmacs_per_s(row.threads, row.precision)
    return replace(
        row,
        warmup=m.stats.warmup,
        runs=m.stats.runs,
        latency_p50_ms=m.stats.p50_ms,
        latency_p90_ms=m.stats.p90_ms,
        latency_p99_ms=m.stats.p99_ms,
        latency_mean_ms=m.stats.mean_ms,
        latency_min_ms=m.stats.min_ms,
        throughput_fps=m.stats.throughput_fps,
        init_ms=m.init_ms,
        peak_memory_mb=m.peak_memory_mb,
        gmacs=gmacs,
        gmacs_per_s=achieved,
        peak_gmacs_per_s=peak,
        hardware_fraction=achieved / peak if achieved and peak else None,
    )


def scored_row(
    row: BenchRow,
    coords: np.ndarray,
    data: ParitySet | LiftParitySet,
    reference: Reference | Reference | None,
    label: str,
    prior: LimbPrior,
) -> BenchRow:
    """Accuracy and limb plausibility (under ``prior``) on the evaluation crops and, against the torch reference,
    the precision's parity verdict."""
    row = replace(row, eval_data=label, samples=len(coords))
    if reference is None:
        failures = health_failures(coords, coords, data)  # NaN or constant (collapse needs a reference)
        if failures:
            return replace(row, status=ACCURACY_FAILED, reason="; ".join(failures))
        camera = data.to_camera(coords)
        scores = accuracy_mm(data, camera)
        reason = "no torch float32 reference: pass --checkpoint for ΔMPJPE"
        row = replace(row, mpjpe_mm=scores["mpjpe"], pa_mpjpe_mm=scores["pa_mpjpe"], status=NOT_SCORED, reason=reason)
        return with_limbs(row, camera, prior)
    budget = Budget() if row.format == "torch" else data.budgets.get(row.precision, Budget())
    report = compare_outputs(reference, coords, row.artifact, data, budget)
    if "mpjpe_candidate_mm" not in report:  # NaN, constant or collapsed: nothing to score
        return replace(row, status=ACCURACY_FAILED, reason="; ".join(report["failures"]))
    row = replace(
        row,
        mpjpe_mm=report["mpjpe_candidate_mm"],
        pa_mpjpe_mm=report["pa_mpjpe_candidate_mm"],
        delta_mpjpe_mm=report["delta_mpjpe_mm"],
        status=PASSED if report["passed"] else ACCURACY_FAILED,
        reason="; ".join(report["failures"]),
    )
    return with_limbs(row, data.to_camera(coords), prior)


def with_limbs(row: BenchRow, camera: np.ndarray, prior: LimbPrior) -> BenchRow:
    """``row`` with the limb plausibility of its camera-space predictions under ``prior``."""
    limbs = plausibility(camera, prior)
    return replace(row, limb_within_2sigma=limbs["within_2sigma"], limb_error_mm=limbs["bone_error_mm"])


def benchmark_target(
    target: Target,
    threads_list: Iterable[int],
    machine: Machine,
    *,
    data: ParitySet | LiftParitySet,
    reference: Reference | Reference | None,
    data_label: str,
    gmacs: float | None,
    warmup: int,
    runs: int,
    memory: bool = True,
    accuracy: bool = True,
    limb_prior: LimbPrior | None = None,
    on_row: Callable[[BenchRow], None] = lambda row: None,
) -> list[BenchRow]:
    """One row per thread count; a target that cannot run gives one row saying why. Scored targets need
    ``data`` and the ``limb_prior`` their plausibility is measured under."""
    if target.error:
        rows = [base_row(target, None, machine)]
        on_row(rows[0])
        return rows
    rows = []
    scored: BenchRow | None = None
    for threads in threads_list:
        row = base_row(target, threads, machine)
        if target.peer_input:
            row = replace(row, status=NOT_SCORED, reason="peer model: timed, not scored", model=target.name, peer=True)
        elif not accuracy:
            row = replace(row, status=NOT_SCORED, reason="accuracy not measured (--no-accuracy)")
        try:
            score = accuracy and scored is None and not target.peer_input
            m = measure(target, threads, data, warmup=warmup, runs=runs, score=score, memory=memory)
        except (RuntimeUnavailableError, MissingDependencyError) as exc:
            rows.append(replace(row, threads=None, status=SKIPPED, reason=str(exc)))
            on_row(rows[-1])
            break
        except (MhpError, RuntimeError, ValueError, OSError) as exc:  # a corrupt or unloadable artifact
            first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            rows.append(replace(row, threads=None, status=EXPORT_FAILED, reason=f"does not run: {first_line}"))
            on_row(rows[-1])
            break
        row = timed_row(row, m, machine, gmacs)
        if m.coords is not None:
            scored = scored_row(row, m.coords, data, reference, data_label, limb_prior)
        if scored is not None:  # accuracy does not depend on the thread count: measured once, carried over
            keep = ("eval_data", "samples", "mpjpe_mm", "pa_mpjpe_mm", "delta_mpjpe_mm", "status", "reason")
            keep += ("limb_within_2sigma", "limb_error_mm")
            row = replace(row, **{k: getattr(scored, k) for k in keep})
        row = with_graph(row, target)
        rows.append(row)
        on_row(row)
    return rows


def with_graph(row: BenchRow, target: Target) -> BenchRow:
    graph = (target.manifest.graph if target.manifest else None) or {}
    if target.peer_input:
        from mhp.export.tflite import graph_report

        graph = graph_report(target.path)
    if "xnnpack_partitions" not in graph:
        return row
    outside = ",".join(f"{k}:{v}" for k, v in sorted(graph.get("ops_outside_delegate", {}).items()))
    return replace(row, partitions=graph["xnnpack_partitions"], ops_outside_delegate=outside)
