"""2D→3D lifters on synthetic people: supervised (3D labels), unsupervised (2D only, Chen et al.) and
unsupervised with the limb-length prior, each trained by ``mhp-train --task lift`` and scored by ``mhp-eval``
on held-out synthetic people against the mean-pose and zero-depth baselines. Records training time.

    .venv/bin/python benchmarks/lifter_synthetic.py --out benchmarks/results --epochs 30 --width 256
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
from pathlib import Path

import torch

from mhp.config import EvalConfig, TrainConfig
from mhp.eval.lift_run import evaluate_lifter
from mhp.models.checkpoint import load_checkpoint
from mhp.train.lift_loop import train_lift
from mhp.util.fileio import write_text_atomic

RECIPES = {
    "supervised (3D labels)": {"supervision": "3d"},
    "unsupervised (2D only)": {"supervision": "2d"},
    "unsupervised + limb prior": {"supervision": "2d", "weight_limb": 1.0},
}
ROWS = ("lifter, ground-truth 2D", "mean-pose baseline", "zero-depth baseline")


def flags(values: dict) -> str:
    return " ".join(
        f"--{k.replace('_', '-')} {','.join(map(str, v)) if isinstance(v, tuple) else v}" for k, v in values.items()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--samples", type=int, default=20000)
    parser.add_argument("--test-samples", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3, help="training runs per recipe; the median time is kept")
    args = parser.parse_args()
    common = {
        "task": "lift",
        "lift_width": args.width,
        "lift_dropout": 0.0,
        "batch_size": args.batch_size,
        "epochs": args.epochs,
        "lr_decay_epochs": (int(args.epochs * 0.7), int(args.epochs * 0.85)),
        "synthetic_samples": args.samples,
        "device": "cpu",
        "log_every": 1000,
    }
    results = {}
    with tempfile.TemporaryDirectory() as work:
        for name, recipe in RECIPES.items():
            runs = []
            for repeat in range(args.repeats):  # the same seeds: equal models, only the time varies
                out = Path(work) / f"recipe{len(results)}-{repeat}"
                runs.append(train_lift(TrainConfig(**common, **recipe, out=str(out))))
            summary = runs[-1]
            # the final model: best.pt is chosen by validation against 3D, which an unsupervised run must not use
            evaluation = EvalConfig(
                checkpoint=summary["last"], data="synthetic", synthetic_samples=args.test_samples, device="cpu"
            )
            report = evaluate_lifter(evaluation, load_checkpoint(summary["last"]), None, torch.device("cpu"))
            metric = f"best_val_{summary['best_val_metric']}_mm"
            results[name] = {
                "command": f"mhp-train {flags({**common, **recipe})}",
                "train_seconds": statistics.median(r["train_seconds"] for r in runs),
                "train_seconds_runs": [r["train_seconds"] for r in runs],
                "repeats_identical": len({round(r[metric], 6) for r in runs}) == 1,
                "rows": {row: report["per_group"][row] for row in ROWS},
            }
    machine = (
        f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}"
    )
    document = {"machine": machine, "test_poses": args.test_samples, "repeats": args.repeats, "recipes": results}
    out = Path(args.out)
    write_text_atomic(out / "lifter_synthetic.json", json.dumps(document, indent=2) + "\n")
    write_text_atomic(out / "lifter_synthetic.md", markdown(document))
    print(markdown(document))


def markdown(document: dict) -> str:
    lines = [
        "# 2D→3D lifters on synthetic people",
        "",
        "Command: `.venv/bin/python benchmarks/lifter_synthetic.py` (trains with `mhp-train --task lift`, scores "
        f"with `mhp-eval`'s lifter evaluation on {document['test_poses']} held-out synthetic people from "
        "ground-truth 2D; each run's final model, `last.pt`, since `best.pt` is picked against 3D).  ",
        f"Machine: {document['machine']}. Train time: median of {document['repeats']} runs of the recipe (the "
        "runs' times are in the JSON); every repeat trained the same model (same seeds).",
        "",
        "| recipe | train time | input | MPJPE | N-MPJPE | PA-MPJPE | bones in 2σ | bone error |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, result in document["recipes"].items():
        for i, (row, m) in enumerate(result["rows"].items()):
            time = f"{result['train_seconds']:.0f} s" if i == 0 else ""
            lines.append(
                f"| {name if i == 0 else ''} | {time} | {row} | {m['mpjpe']:.1f} | {m['n_mpjpe']:.1f} | "
                f"{m['pa_mpjpe']:.1f} | {100 * m['limb_within_2sigma']:.1f} % | {m['limb_error_mm']:.1f} |"
            )
    lines += ["", "Commands:", ""] + [f"- {name}: `{r['command']}`" for name, r in document["recipes"].items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
