"""``mhp-eval``: score a checkpoint on Human3.6M, MuPoTS-3D or held-out synthetic humans (reference §10).

mhp-eval --checkpoint runs/lpski/best.pt --data h36m=/data/Human36M --protocol 2   # flip test on
mhp-eval --checkpoint snapshot_24.pth.tar --backbone LPSKI --data mupots=/data/MuPoTS --json out.json
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mhp.cli import run_command
from mhp.cli.options import CommandParser, add_config_arguments, parse_command_line
from mhp.config import EvalConfig
from mhp.config.resolve import config_dict
from mhp.data import data_flag, read_dataset
from mhp.data.synthetic import SyntheticHumans
from mhp.errors import MhpError
from mhp.eval.lift import N_MPJPE
from mhp.eval.pose import CONVENTIONS, FLIP_MODES, read_eval_prior, run_h36m, run_mupots, run_synthetic
from mhp.models import model_task
from mhp.models.checkpoint import load_checkpoint_and_config
from mhp.train.distributed import resolve_device
from mhp.util.fileio import atomic_path, writable_file

DATASETS = ("h36m", "mupots", "synthetic")
LABELS = {
    "mpjpe": "MPJPE",
    "n_mpjpe": "N-MPJPE",
    "pa_mpjpe": "PA-MPJPE",
    "rigid_mpjpe": "rigid (P1)",
    "pck3d_all": "3DPCK all",
    "auc_all": "AUC all",
    "pck3d_matched": "3DPCK matched",
}
LIMB_LABELS = {"limb_within_2sigma": "bones in 2σ %", "limb_error_mm": "bone error"}  # lifter tables: per row
LABELS.update(LIMB_LABELS)
PERCENTS = {"limb_within_2sigma"}


def training_source(config: dict[str, Any], joint_set) -> SyntheticHumans:
    """The synthetic training scenes a checkpoint's recorded config describes (for the mean-pose baseline)."""
    size = int(config.get("synthetic_image_size", 384))
    samples = int(config.get("synthetic_samples", 2000))
    return SyntheticHumans(
        max(samples, 1), joint_set=joint_set, seed=int(config.get("seed", 0)), image_size=(size, size)
    )


def trained_unflipped(config: dict[str, Any]) -> str | None:
    """Why the checkpoint's model never saw a mirrored person in training, or None when it did (or, like an original
    snapshot, records no training config: the original trains with flip augmentation)."""
    if not config:
        return None
    if float(config.get("flip_prob", 0.5)) == 0:
        return "it was trained with --flip-prob 0"
    data = [*config.get("data_3d", []), *config.get("data_2d", [])] or ["synthetic"]
    if all(str(entry).split("=")[0] == "synthetic" for entry in data):
        return "it was trained on synthetic humans only, whose left/right colour coding forbids flipping"
    return None


def flip_setting(cfg: EvalConfig, config: dict[str, Any]) -> tuple[str | None, str]:
    """The flip-test mode to run (None: off) and what the report says about it (``config``: the checkpoint's)."""
    unflipped = trained_unflipped(config)
    if cfg.flip_test and unflipped:
        raise MhpError(
            f"--flip-test: {cfg.checkpoint} never saw a mirrored person ({unflipped}); averaging with its mirrored "
            "prediction would only add error. Leave the flip test off"
        )
    if cfg.flip_test is False:
        return None, "off"
    if unflipped:
        return None, f"off ({unflipped})"
    return cfg.flip_mode, cfg.flip_mode


def evaluate(cfg: EvalConfig) -> dict[str, Any]:
    dataset, root = data_flag(cfg.data, DATASETS)
    if cfg.flip_mode not in FLIP_MODES:
        raise MhpError(f"--flip-mode must be original or corrected, not {cfg.flip_mode!r}")
    model, config, selection = load_checkpoint_and_config(
        cfg.checkpoint, model=cfg.backbone, num_joints=cfg.num_joints, width_mult=cfg.width_mult
    )
    if model_task(model.model_name) == "lift":
        header = report_header(cfg, model, selection, "ground truth", "off")
        return {**header, **evaluate_lifter_checkpoint(cfg, model)}
    if cfg.keypoints_from:
        raise MhpError(f"--keypoints-from feeds a lifter; {cfg.checkpoint} is an image model ({model.model_name})")
    if model.joint_set is None:
        raise MhpError(f"{cfg.checkpoint} has {model.num_joints} joints, which no evaluation protocol defines")
    device = resolve_device(cfg.device)
    model.to(device)
    flip, flip_note = flip_setting(cfg, config)
    prior = read_eval_prior(cfg.limb_prior) if cfg.limb_prior else None
    kwargs = {"batch_size": cfg.batch_size, "device": device, "workers": cfg.workers, "limb_prior": prior}
    boxes = f"RootNet ({cfg.bbox_root})" if cfg.bbox_root else "ground truth"
    if dataset == "h36m":
        annotations = read_dataset("h36m", root, "test", protocol=cfg.protocol, bbox_root=cfg.bbox_root)
        report = run_h36m(model, annotations, protocol=cfg.protocol, flip=flip, fast_decode=cfg.fast_decode, **kwargs)
        report["subjects"] = sorted({int(s) for s in annotations.subjects})
    elif dataset == "mupots":
        gt = read_dataset("mupots", root, "test")
        predictions = gt if cfg.bbox_root is None else read_dataset("mupots", root, "test", bbox_root=cfg.bbox_root)
        report = run_mupots(model, gt, predictions, flip=flip, fast_decode=cfg.fast_decode, **kwargs)
    else:
        size = (cfg.synthetic_image_size, cfg.synthetic_image_size)
        source = SyntheticHumans(
            cfg.synthetic_samples, joint_set=model.joint_set, seed=cfg.synthetic_seed, image_size=size
        )
        report = run_synthetic(model, source, training_source(config, model.joint_set), flip=flip, **kwargs)
        boxes = "ground truth"
    return {**report_header(cfg, model, selection, boxes, flip_note), **report}


def report_header(cfg: EvalConfig, model, selection: dict[str, Any], boxes: str, flip: str) -> dict[str, Any]:
    return {
        "checkpoint": cfg.checkpoint,
        "trained": selection,
        "model": model.model_name,
        "joint_set": model.joint_set.name,
        "dataset": data_flag(cfg.data, DATASETS)[0],
        "protocol": cfg.protocol if cfg.data.startswith("h36m") else None,
        "boxes_and_roots": boxes,
        "flip_test": flip,
        "conventions": {**CONVENTIONS, "n_mpjpe": N_MPJPE},
        "config": config_dict(cfg),
    }


def evaluate_lifter_checkpoint(cfg: EvalConfig, model) -> dict[str, Any]:
    """A lifter on ground-truth 2D (and ``--keypoints-from`` an image model's 2D), next to the baselines."""
    from mhp.eval.lift_run import evaluate_lifter

    if cfg.flip_test or cfg.bbox_root:
        raise MhpError("--flip-test and --bbox-root apply to image models; a lifter takes 2D joints")
    prior = read_eval_prior(cfg.limb_prior) if cfg.limb_prior else None
    return evaluate_lifter(cfg, model, prior, resolve_device(cfg.device))


def cell(values: dict[str, float], key: str) -> str:
    value = values.get(key, math.nan)
    return f"{100 * value if key in PERCENTS else value:.1f}"


def describe_selection(selection: dict[str, Any]) -> str:
    """``checkpoint: best.pt after 18 epochs, kept for ...`` from a checkpoint's selection record."""
    if not selection:
        return "checkpoint: no training record (which epoch, and how it was chosen, is unknown)"
    steps = selection.get("steps_into_epoch", 0)
    partial = f" and {steps} steps" if steps else ""
    epochs = f"{selection['epochs']} epoch{'' if selection['epochs'] == 1 else 's'}"
    return f"checkpoint: {selection['file']} after {epochs}{partial}, {selection['chosen']}"


def format_report(report: dict[str, Any]) -> str:
    metrics = report["metrics"]
    lifter = report.get("task") == "lift"
    columns = [k for k in LABELS if k in metrics and (lifter or k not in LIMB_LABELS)]
    title = f"{report['model']} on {report['dataset']}"
    if report.get("protocol"):
        title += f" protocol {report['protocol']} (subjects {', '.join(map(str, report.get('subjects', [])))})"
    setting = f"boxes/roots {report['boxes_and_roots']}, flip test {report['flip_test']}"
    lines = [f"{title}: {report['samples']} samples, {setting}", describe_selection(report.get("trained", {}))]
    label = report.get("group_label") or ""
    widths = [max(12, len(label))] + [max(10, len(LABELS[c])) for c in columns]
    lines.append(
        "  ".join([label.ljust(widths[0])] + [LABELS[c].rjust(w) for c, w in zip(columns, widths[1:], strict=True)])
    )
    width = max([widths[0], *map(len, report["per_group"])])
    widths[0] = width
    lines[-1] = "  ".join([label.ljust(width)] + [LABELS[c].rjust(w) for c, w in zip(columns, widths[1:], strict=True)])
    for group, values in report["per_group"].items():
        cells = [cell(values, c).rjust(w) for c, w in zip(columns, widths[1:], strict=True)]
        lines.append("  ".join([group.ljust(width), *cells]))
    if not lifter:  # a lifter's rows are different inputs, not groups of one set
        cells = [cell(metrics, c).rjust(w) for c, w in zip(columns, widths[1:], strict=True)]
        lines.append("  ".join(["average".ljust(width), *cells]))
    if "baseline_mpjpe" in metrics:
        baseline, ratio = metrics["baseline_mpjpe"], metrics["ratio_to_baseline"]
        lines.append(f"mean-pose baseline MPJPE {baseline:.1f} mm; model / baseline = {ratio:.3f}")
    if "limb_within_2sigma" in metrics:
        lines.append(
            f"limb plausibility: {100 * metrics['limb_within_2sigma']:.1f}% of bones within 2σ, mean |L - prior mean| "
            f"{metrics['limb_error_mm']:.1f} mm (ground truth {100 * metrics['gt_limb_within_2sigma']:.1f}%, "
            f"{metrics['gt_limb_error_mm']:.1f} mm); limb prior {report['limb_prior']}"
        )
    if "bone_length_error_mm" in metrics:
        lines.append(f"bone-length error |L_pred - L_gt| (ContextPose): {metrics['bone_length_error_mm']:.1f} mm")
    for key in columns:
        if key in report.get("conventions", CONVENTIONS):
            lines.append(f"  {LABELS[key]}: {report.get('conventions', CONVENTIONS)[key]}")
    lines.append(
        f"primary metric: {LABELS.get(report['primary'], report['primary'])} = {metrics[report['primary']]:.2f}"
    )
    return "\n".join(lines)


HELP = {
    "data": "the test set: h36m=ROOT (Human3.6M, --protocol), mupots=ROOT (MuPoTS-3D) or synthetic (held-out scenes)",
    "bbox_root": "RootNet's bbox_root JSON: its boxes and root depths instead of the ground truth",
    "flip_test": "average with the mirrored image's prediction (default: on, unless the model never saw a mirror)",
    "flip_mode": "original (x -> W - 1 - x, as published) or corrected",
    "keypoints_from": "a lifter is also fed the 2D joints this image-model checkpoint predicts",
    "backbone": "an original snapshot's architecture: LPSKI, LPSKI_LARGE, LPWO, LPRES, RESNET50",
    "num_joints": "an original snapshot's joint count",
    "width_mult": "an original snapshot's width multiplier",
}


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(prog="mhp-eval", description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="flat YAML with any of the options below")
    add_config_arguments(parser, EvalConfig, help_text=HELP)
    return parser


def parse_config(argv: Sequence[str] | None) -> EvalConfig:
    """The flags (over their ``--config`` YAML) as a checked config; nothing runs."""
    return parse_command_line(build_parser(), EvalConfig, argv)


def body(argv: Sequence[str] | None) -> int:
    cfg = parse_config(argv)
    to_file = cfg.json_out not in (None, "-")
    if to_file:
        writable_file(cfg.json_out, "--json")  # before the evaluation, not after it
    report = evaluate(cfg)
    print(json.dumps(report, indent=2) if cfg.json_out == "-" else format_report(report))
    if to_file:
        with atomic_path(Path(cfg.json_out)) as tmp:
            tmp.write_text(json.dumps(report, indent=2) + "\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(body, argv)


if __name__ == "__main__":
    raise SystemExit(main())
