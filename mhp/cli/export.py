"""mhp-export: a checkpoint to ONNX / TFLite / CoreML artifacts, each with a manifest and a parity gate."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from mhp.cli import run_command
from mhp.cli.options import CommandParser, add_config_arguments, add_recipe_arguments, parse_command_line
from mhp.config import ExportConfig
from mhp.eval.parity import format_parity_table
from mhp.util.native_log import native_log

HELP = {
    "checkpoint": "an mhp checkpoint (.pt), or an original snapshot with --backbone",
    "target": "onnx, tflite, coreml or all",
    "precision": "fp32 fp16 dynamic int8 (TFLite int8 = full integer; CoreML int8 = INT8 weights)",
    "calib_data": "INT8 calibration data: NAME=ROOT (h36m, muco, mpii, coco in their own layout), a folder of images "
    "with an optional boxes.json {name: [x, y, w, h]}, or synthetic (default: the checkpoint's training data)",
    "parity_data": "parity data with 3D ground truth: NAME=ROOT (h36m, muco: the held-out validation slice) or "
    "synthetic (default: the checkpoint's validation data)",
    "calib_samples": "INT8 calibration crops (at least 200)",
    "parity_samples": "crops the parity gate compares the artifact and the checkpoint on",
    "check": "re-run the parity gate of this artifact and update its manifest",
    "no_check": "skip the parity gates (the manifest records that)",
    "golden": "write the golden files of the app decoders to this folder instead of exporting",
    "golden_from": "with --golden: a full-INT8 .tflite to add one real LiteRT run",
    "out": "the artifacts' folder (default: runs/export/RUN, RUN the checkpoint's folder name)",
    "backbone": "an original snapshot's architecture: LPSKI, LPSKI_LARGE, LPWO, LPRES, RESNET50",
    "num_joints": "an original snapshot's joint count",
    "width_mult": "an original snapshot's width multiplier",
}


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(prog="mhp-export", description=__doc__.splitlines()[0])
    add_recipe_arguments(parser, "export", "an export recipe of your own (flat YAML)")
    add_config_arguments(parser, ExportConfig, help_text=HELP)
    return parser


def parse_config(argv: Sequence[str] | None) -> ExportConfig:
    """The flags (over their ``--config`` YAML) as a checked config; nothing runs."""
    return parse_command_line(build_parser(), ExportConfig, argv)


def body(argv: Sequence[str] | None) -> int:
    cfg = parse_config(argv)
    if cfg.golden:
        from mhp.export.golden import write_golden

        print(f"wrote {write_golden(cfg.golden, cfg.golden_from)}")
        return 0
    from mhp.export.pipeline import check_artifact, export_checkpoint

    with native_log(cfg.verbose):  # TensorFlow's and LiteRT's own log lines, hidden unless --verbose
        results = [check_artifact(cfg)] if cfg.check else export_checkpoint(cfg)
    if cfg.check:
        print(json.dumps(results[0]["parity"], indent=2))
    print(format_parity_table([(r["path"].rsplit("/", 1)[-1], r["parity"]) for r in results]))
    failed = [r["path"] for r in results if r["parity"].get("passed") is False]
    if failed:
        print(f"parity FAILED for {', '.join(failed)}: see the report above and the manifests")
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(body, argv)


if __name__ == "__main__":
    raise SystemExit(main())
