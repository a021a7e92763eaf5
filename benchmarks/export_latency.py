"""TFLite latency of LPSKI (J=18, 256 px) by activation and precision, with XNNPACK partition counts.

Exports randomly initialised LPSKI models (latency does not depend on the weights) with ``mhp-export``'s own
pipeline, then times every artifact on one LiteRT thread, interleaving the artifacts round by round so that
load on the shared machine hits them alike; reports medians and the INT8 / float32 ratio of each activation.
Also times the whole ``--target all`` export of the ReLU model.

    .venv/bin/python benchmarks/export_latency.py --out benchmarks/results
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import mhp
from mhp.config import ExportConfig
from mhp.export.pipeline import export_checkpoint


def export(activation: str, work: Path, target: str, precisions: tuple[str, ...]) -> tuple[list[dict], float]:
    torch.manual_seed(0)
    model = mhp.create_model("LPSKI", activation=activation)
    checkpoint = work / f"lpski_{activation}.pt"
    mhp.save_checkpoint(checkpoint, model, config={"synthetic_image_size": 384})
    started = time.monotonic()
    cfg = ExportConfig(
        checkpoint=str(checkpoint), target=target, precision=precisions, out=str(work / activation), no_check=True
    )
    results = export_checkpoint(cfg, log=lambda _: None)
    return results, time.monotonic() - started


def time_artifacts(paths: list[str], rounds: int, runs: int) -> dict[str, float]:
    from ai_edge_litert.interpreter import Interpreter

    interpreters = {}
    for path in paths:
        interpreter = Interpreter(model_path=path, num_threads=1)
        interpreter.allocate_tensors()
        detail = interpreter.get_input_details()[0]
        interpreter.set_tensor(detail["index"], np.random.default_rng(0).integers(0, 256, detail["shape"], np.uint8))
        for _ in range(5):
            interpreter.invoke()
        interpreters[path] = interpreter
    samples: dict[str, list[float]] = {p: [] for p in paths}
    for _ in range(rounds):
        for path, interpreter in interpreters.items():
            for _ in range(runs):
                start = time.perf_counter()
                interpreter.invoke()
                samples[path].append((time.perf_counter() - start) * 1000)
    return {p: statistics.median(v) for p, v in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        full, full_seconds = export("relu", work / "all", "all", ())
        for activation in ("relu", "prelu"):
            results, _ = export(activation, work, "tflite", ("fp32", "fp16", "dynamic", "int8"))
            for r in results:
                rows.append(
                    {"activation": activation, **{k: r[k] for k in ("path", "precision", "size_bytes", "graph")}}
                )
        medians = time_artifacts([r["path"] for r in rows], args.rounds, args.runs)
    for row in rows:
        row["median_ms"] = round(medians.pop(row.pop("path")), 2)
    for activation in ("relu", "prelu"):
        by = {r["precision"]: r for r in rows if r["activation"] == activation}
        by["int8"]["int8_over_fp32"] = round(by["int8"]["median_ms"] / by["fp32"]["median_ms"], 3)
    report = {
        "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads",
        "litert_threads": 1,
        "timing": f"median of {args.rounds} interleaved rounds x {args.runs} invokes after 5 warm-up",
        "full_export_all_targets_seconds": round(full_seconds, 1),
        "full_export_artifacts": [{k: r[k] for k in ("format", "precision", "size_bytes", "seconds")} for r in full],
        "tflite": rows,
    }
    out = Path(args.out)
    (out / "export_latency.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
