"""mhp-bench: latency percentiles, memory, size and 3D accuracy of every format and runtime, side by side.

mhp-bench --artifacts runs/quickstart/export --threads 1,2
mhp-bench --artifacts EXPORT --peer pose_landmark_full.tflite --peer-input 256
mhp-bench --phone android --artifacts EXPORT --benchmark-model ./benchmark_model
mhp-bench --ingest app_bench.json
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from mhp.cli import run_command
from mhp.cli.options import CommandParser, add_config_arguments, parse_command_line
from mhp.config import BenchConfig
from mhp.config.resolve import config_dict
from mhp.errors import MhpError
from mhp.util.native_log import native_log

HELP = {
    "artifacts": "folders written by mhp-export (or artifact files)",
    "checkpoint": "torch float32 reference (default: the artifacts' source checkpoint)",
    "runtimes": "comma-separated: torch, onnxruntime, litert, coreml",
    "threads": "comma-separated thread counts",
    "data": "evaluation crops: synthetic (held-out scenes) or h36m=ROOT (Human3.6M protocol 2)",
    "samples": "evaluation crops per model",
    "runs": "timed runs per row (after --warmup untimed ones)",
    "accuracy": "score each artifact on the evaluation crops (--no-accuracy: latency only)",
    "memory": "measure each artifact's peak resident memory in a fresh process",
    "peer": "other .tflite pose models to time with the same settings (latency only)",
    "peer_input": "the peers' square input size",
    "pipeline": "also time whole frames with N people each (e.g. 1,3): the bundled detector, then crop + pose + decode"
    " per person, and each --peer in MediaPipe's pipeline (make detector)",
    "out": "folder for the timestamped JSON, CSV, Markdown and PNG files (the project's own: benchmarks/results)",
    "readme": "Markdown file whose mhp-bench table is replaced by this run's",
    "plots": "write the latency-vs-MPJPE and latency-per-format PNGs",
    "phone": "android: time the .tflite artifacts on a phone with benchmark_model over adb",
    "benchmark_model": "TFLite's benchmark_model binary for the phone's ABI",
    "ingest": "JSON files written by the Android or iOS demo app's benchmark mode",
    "warmup": "untimed runs before the timed ones",
    "serial": "--phone android: the adb serial of the phone (when several are attached)",
    "adb": "the adb binary",
}


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="mhp-bench", description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", help="flat YAML with any of the options below")
    add_config_arguments(parser, BenchConfig, help_text=HELP)
    return parser


def parse_config(argv: Sequence[str] | None) -> BenchConfig:
    """The flags (over their ``--config`` YAML) as a checked config; nothing runs."""
    return parse_command_line(build_parser(), BenchConfig, argv)


def body(argv: Sequence[str] | None) -> int:
    cfg = parse_config(argv)
    from mhp.bench.report import comparison_lines, console_table, int8_warnings, update_readme, write_reports
    from mhp.bench.run import collect_rows
    from mhp.bench.schema import ACCURACY_FAILED, EXPORT_FAILED, SKIPPED

    with native_log(cfg.verbose):
        rows, machine = collect_rows(cfg)
    if rows and all(row.status == SKIPPED for row in rows):  # measured nothing: not a success
        reasons = sorted({f"{Path(row.artifact).name}: {row.reason}" for row in rows})
        raise MhpError(f"every row was skipped, nothing was measured ({'; '.join(reasons)[:400]})")
    paths = write_reports(rows, machine, cfg.out, config=config_dict(cfg), plots=cfg.plots)
    print(console_table(rows))
    for line in comparison_lines(rows) + int8_warnings(rows, machine):
        print(line)
    if cfg.readme:
        update_readme(cfg.readme, paths["markdown"].read_text())
        print(f"updated the table in {cfg.readme}")
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    failed = [r for r in rows if r.status in (EXPORT_FAILED, ACCURACY_FAILED)]
    if failed:
        print(f"{len(failed)} row(s) failed: see the status column", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(body, argv)


if __name__ == "__main__":
    raise SystemExit(main())
