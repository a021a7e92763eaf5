"""``make quickstart``: train LPSKI on synthetic humans, score it, export it, benchmark it, write a summary.

Everything goes under ``runs/quickstart/``: the training run (checkpoints, log.csv, TensorBoard), the
evaluation report ``eval.json``, the ONNX and TFLite (float32, full INT8) artifacts with their manifests and
parity reports under ``export/``, their benchmark (latency, memory, accuracy per format) under ``bench/``, and
``summary.json``. Re-running continues or reuses a finished run.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from mhp.cli import run_command
from mhp.cli.eval import evaluate, format_report
from mhp.cli.options import CommandParser, add_recipe_arguments
from mhp.config import BenchConfig, EvalConfig, ExportConfig, TrainConfig
from mhp.config.recipes import recipe_path
from mhp.config.resolve import config_dict, resolve_config
from mhp.util.fileio import write_json
from mhp.util.native_log import native_log

RECIPE = "quickstart_synthetic"  # the shipped training recipe it runs unless told otherwise
MAX_RATIO = 0.6  # the model must beat the mean-pose baseline clearly


def parse_config(argv: Sequence[str] | None) -> TrainConfig:
    """The quickstart's training config: the shipped ``quickstart_synthetic`` recipe (or ``--config`` / ``--recipe``)
    writing to ``--out`` and continuing a run found there; nothing runs."""
    parser = CommandParser(prog="mhp-quickstart", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/quickstart")
    add_recipe_arguments(parser, "train", f"a training recipe of your own (flat YAML; default: the shipped {RECIPE})")
    args = parser.parse_args(argv)
    recipe = args.config or str(recipe_path("train", RECIPE))
    return resolve_config(TrainConfig, yaml_path=recipe, flags={"out": args.out, "resume": "auto"})


def body(argv: Sequence[str] | None) -> int:
    cfg = parse_config(argv)
    out = Path(cfg.out)
    started = time.monotonic()
    from mhp.train.loop import train

    run = train(cfg)
    eval_cfg = EvalConfig(
        checkpoint=run["checkpoint"],
        data="synthetic",
        synthetic_image_size=cfg.synthetic_image_size,
        workers=min(cfg.workers, 1),
        device=cfg.device,
        json_out=str(out / "eval.json"),
    )
    report = evaluate(eval_cfg)
    write_json(out / "eval.json", report, indent=2)
    print(format_report(report))
    metrics = report["metrics"]
    summary = {
        "model": report["model"],
        "mpjpe_mm": round(metrics["mpjpe"], 2),
        "baseline_mpjpe_mm": round(metrics["baseline_mpjpe"], 2),
        "ratio_to_baseline": round(metrics["ratio_to_baseline"], 3),
        "pa_mpjpe_mm": round(metrics["pa_mpjpe"], 2),
        "eval_samples": report["samples"],
        "train_seconds": run["train_seconds"],
        "total_seconds": round(time.monotonic() - started, 1),
        "epochs": run["epochs"],
        "checkpoint": run["checkpoint"],
        "learned": metrics["ratio_to_baseline"] <= MAX_RATIO,
    }
    with native_log(verbose=False):  # TensorFlow's and LiteRT's own lines, as mhp-export and mhp-bench hide them
        exports = export_quickstart(run["checkpoint"], out / "export")
        summary["exports"] = exports
        write_json(out / "summary.json", summary, indent=2)
        exported = all(e["passed"] for e in exports)
        summary["bench"], benched = bench_quickstart(out / "export", out / "bench")
        summary["pictures"] = picture_quickstart(run["checkpoint"], out / "export" / "lpski_int8.tflite", out)
    write_json(out / "summary.json", summary, indent=2)
    verdict = "learned" if summary["learned"] else f"did NOT learn enough (needs <= {MAX_RATIO} x baseline)"
    print(
        f"quickstart: held-out MPJPE {summary['mpjpe_mm']:.1f} mm vs mean-pose baseline "
        f"{summary['baseline_mpjpe_mm']:.1f} mm ({summary['ratio_to_baseline']:.2f} x): {verdict}; "
        f"trained {summary['train_seconds']:.0f} s -> {out / 'summary.json'}"
    )
    if not exported:
        print(f"quickstart: an export failed its parity gate; see {out / 'export'}/*.json")
    print(f"quickstart: benchmark report {summary['bench']['markdown']} (plots and JSON beside it)")
    print(f"quickstart: a held-out scene through the INT8 model: {summary['pictures']['pose_3d']}")
    return 0 if summary["learned"] and exported and benched else 1


def export_quickstart(checkpoint: str, out: Path) -> list[dict]:
    """ONNX and TFLite, each float32 and INT8, each gated for parity; the summary's ``exports`` list."""
    from mhp.eval.parity import format_parity_table
    from mhp.export.pipeline import export_checkpoint

    results = []
    for target, precisions in (("onnx", ("fp32", "int8")), ("tflite", ("fp32", "int8"))):
        cfg = ExportConfig(checkpoint=checkpoint, target=target, precision=precisions, out=str(out))
        results += export_checkpoint(cfg)
    print(format_parity_table([(Path(r["path"]).name, r["parity"]) for r in results]))
    return [
        {
            "path": r["path"],
            "format": r["format"],
            "precision": r["precision"],
            "size_bytes": r["size_bytes"],
            "delta_mpjpe_mm": round(r["parity"].get("delta_mpjpe_mm", float("nan")), 3),
            "max_voxel_error": round(r["parity"].get("voxel_error", {}).get("max", float("nan")), 5),
            "passed": bool(r["parity"]["passed"]),
        }
        for r in results
    ]


def bench_quickstart(export_dir: Path, out: Path) -> tuple[dict[str, str], bool]:
    """Every quickstart artifact and the torch model, 1 and 2 threads: the report's paths and whether all passed."""
    from mhp.bench.report import comparison_lines, console_table, int8_warnings, write_reports
    from mhp.bench.run import collect_rows
    from mhp.bench.schema import ACCURACY_FAILED, EXPORT_FAILED

    cfg = BenchConfig(artifacts=(str(export_dir),), runtimes=("torch", "onnxruntime", "litert"), out=str(out))
    rows, machine = collect_rows(cfg)
    paths = write_reports(rows, machine, out, config=config_dict(cfg))
    print(console_table(rows))
    for line in comparison_lines(rows) + int8_warnings(rows, machine):
        print(line)
    return {k: str(v) for k, v in paths.items()}, not any(r.status in (ACCURACY_FAILED, EXPORT_FAILED) for r in rows)


def picture_quickstart(checkpoint: str, artifact: Path, out: Path) -> dict[str, str]:
    """One held-out synthetic scene through mhp.Predictor: the 2D overlay, and the 3D pose beside the truth."""
    import numpy as np

    from mhp.eval.parity import HELD_OUT_SEED
    from mhp.export.calibration import synthetic_scenes
    from mhp.infer.camera import Intrinsics
    from mhp.infer.draw import draw_skeleton, plot_3d
    from mhp.infer.media import write_image
    from mhp.infer.predictor import Predictor
    from mhp.models.checkpoint import load_checkpoint_and_config

    model, config, _ = load_checkpoint_and_config(checkpoint)
    scenes = synthetic_scenes(model, config, 1, seed=HELD_OUT_SEED)
    record, image = scenes.record(0), np.ascontiguousarray(scenes.load_image(0)[..., ::-1])
    predictor = Predictor(artifact)
    intrinsics = Intrinsics(tuple(record.focal), tuple(record.principal), "synthetic camera")
    (person,) = predictor.predict(image, [record.bbox_raw], intrinsics, root_depth_mm=record.root_cam[2])
    names, bones, root = predictor.joints["names"], predictor.joints["bones"], predictor.root
    truth = record.joints_cam - record.joints_cam[root]
    error = float(np.linalg.norm(person.joints_rel_mm - truth, axis=1).mean())
    title = f"held-out scene, {artifact.name}: {error:.0f} mm mean joint error (grey dashed: truth)"
    overlay = draw_skeleton(image, person.joints_img, person.confidence, bones, names)
    return {
        "pose_2d": str(write_image(out / "pose_2d.jpg", overlay)),
        "pose_3d": str(
            plot_3d([person.joints_rel_mm], bones, names, out / "pose_3d.png", title=title, reference_mm=truth)
        ),
    }


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(body, argv)


if __name__ == "__main__":
    raise SystemExit(main())
