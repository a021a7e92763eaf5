"""gpu.md and gpu_recipe.png from the results of ``benchmarks/gpu_train.py`` (gpu.json), one run or several.

.venv/bin/python benchmarks/gpu_report.py OUT/gpu.json --out OUT           # redraws OUT/gpu.md, OUT/gpu_recipe.png
.venv/bin/python benchmarks/gpu_report.py A/gpu.json B/gpu.json --out DIR  # B's stages replace A's: DIR/gpu.json too
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mhp.util.fileio import atomic_path, write_text_atomic

STAGES = ("steps", "train", "torchrun", "paths", "recipe")  # gpu_train.py's, in its order
STEP_VARIANTS = ("as mhp-train", "no host reads", "cudnn.benchmark")  # what gpu_train.py's steps stage varies
SIZES = ("image_size", "batch", "warmup", "steps", "train_steps", "log_every", "workers", "recipe_samples")

# Human3.6M protocol 2 trains on S1, 5, 6, 7, 8 every 5th frame: 1,559,752 frames of 4 cameras / 5 (a third-party
# count: hrhodin/UnsupervisedGeometryAwareRepresentationLearning issue 5). MPII is smaller, so the 50/50 mixer's
# epoch is twice the Human3.6M set (reference section 7).
H36M_P2_TRAIN = 1_559_752 // 5
FULL_RUN_SAMPLES = 25 * 2 * H36M_P2_TRAIN


def number(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def on_off(flag: bool) -> str:
    return "on" if flag else "off"


def hours(samples: int, rate: float | None) -> str:
    return "—" if not rate else f"{samples / rate / 3600:.1f} h"


def machine_lines(results: dict) -> list[str]:
    m, s = results["machine"], results["settings"]
    if "gpu" in m:
        where = (
            f"{m['gpu']} ({m['gpu_memory_gib']} GiB, {m['multiprocessors']} SMs), driver {m['driver']}, "
            f"CUDA {m['cuda']}, cuDNN {m['cudnn']}, bfloat16 {'yes' if m['bf16'] else 'no'}; TF32 (torch's "
            f"defaults): convolutions {on_off(m['tf32_convolutions'])}, matrix products {on_off(m['tf32_matmul'])}"
        )
    else:
        where = "the CPU (a rehearsal: these numbers say nothing about a GPU)"
    packages = ", ".join(f"{name} {version}" for name, version in m["packages"].items())
    commands = ", then ".join(f"`{command}`" for command in results["commands"])
    return [
        f"{'Commands, one call each' if len(results['commands']) > 1 else 'Command'}: {commands}  ",
        f"Device: {where}.  ",
        f"Host: {m['cpu']}, {m['cpus']} usable CPUs, /dev/shm {m['shm_gib']} GiB; Python {m['python']}, "
        f"torch {m['torch']}; {packages}.  ",
        f"Sizes: {s['image_size']} px crops, batch {s['batch']} per process.",
    ]


def section(title: str, intro: str, columns: list[str], cells: list[list[str]], after: str = "") -> list[str]:
    """A Markdown section: heading, a paragraph, a table of ``cells`` and ``after``; nothing without rows."""
    if not cells:
        return []
    table = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    return [
        f"## {title}",
        "",
        intro,
        "",
        *table,
        *("| " + " | ".join(row) + " |" for row in cells),
        *(["", after] if after else []),
        "",
    ]


def outcome(row: dict) -> str:
    """The exit code, and why where the run failed."""
    return f"{row['exit_code']}: {row['message']}" if row["exit_code"] != 0 else "0"


def steps_table(rows: list[dict], settings: dict) -> list[str]:
    by_key = {(r["model"], r["precision"], r["variant"]): r for r in rows}
    cells = []
    for model, precision in dict.fromkeys((r["model"], r["precision"]) for r in rows):
        base = by_key.get((model, precision, "as mhp-train"), {})
        rates = [number(by_key.get((model, precision, v), {}).get("images_per_s")) for v in STEP_VARIANTS]
        more = [number(base.get("ms_per_step"), 1), number(base.get("peak_mib")), number(base.get("loss"), 3)]
        cells.append([model, precision, *rates, *more])
    intro = (
        f"Forward, loss, backward and Adam on one batch already on the device: {settings['steps']} timed steps after "
        f"{settings['warmup']}. *As mhp-train* reads the loss on the host twice a step (its finite check before the "
        "backward pass, the log after the step) with cudnn.benchmark off; the next columns drop those reads, or turn "
        "cudnn.benchmark on."
    )
    columns = ["model", "precision", "images/s as mhp-train", "no host reads", "cudnn.benchmark", "ms/step"]
    return section("The training step alone", intro, [*columns, "peak MiB", "loss"], cells)


def run_numbers(row: dict) -> list[str]:
    """An mhp-train run's cells: images/s, peak GPU MiB, loss, wall seconds, exit."""
    speed, memory, loss = number(row.get("images_per_s")), number(row.get("peak_mib")), number(row.get("loss"), 4)
    return [speed, memory, loss, str(row["wall_s"]), outcome(row)]


def train_table(rows: list[dict], settings: dict) -> list[str]:
    intro = (
        f"`mhp-train` for {settings['train_steps']} steps per model and precision, its loader processes "
        f"({settings['workers']}) rendering the synthetic humans: images/s is the median of its log windows after "
        "the first; the loss is the mean of the last window, the same data and seed in both precisions."
    )
    columns = ["model", "precision", "images/s", "peak GPU MiB", "loss after the steps", "wall s", "exit"]
    cells = [[r["model"], r["precision"], *run_numbers(r)] for r in rows]
    return section("mhp-train on synthetic humans", intro, columns, cells)


def torchrun_table(rows: list[dict]) -> list[str]:
    intro = (
        "`torchrun --nproc-per-node 2 -m mhp.cli.train --device cuda:0 --dist-backend B`, LPSKI, float32, batch "
        "per process as above; images/s of both processes together."
    )
    columns = ["backend", "--sync-bn", "images/s", "peak GPU MiB (rank 0)", "loss", "wall s", "exit"]
    cells = [[r["backend"], "yes" if r["sync_bn"] else "no", *run_numbers(r)] for r in rows]
    return section("Two processes on one device (torchrun)", intro, columns, cells)


def paths_table(rows: list[dict]) -> list[str]:
    cells = []
    for r in rows:
        losses = ", ".join(f"{k} {r[k]:.4f}" for k in ("loss", "loss_geo", "loss_limb") if r.get(k) is not None)
        cells.append([r["path"], outcome(r), str(r["wall_s"]), losses or "—"])
    intro = "Each run once: exit 0 is a pass; the last logged losses where the path trains."
    return section("The device's other paths", intro, ["path", "exit", "wall s", "last losses"], cells)


def recipe_table(rows: list[dict]) -> list[str]:
    intro = (
        "`mhp-train --recipe lpski_h36m_p2 --data-3d synthetic --data-2d synthetic --time-limit-min M`: the paper's "
        "optimisation (batch 64, Adam 1e-3, 256 px) on synthetic 3D humans mixed 50/50 with synthetic 2D-only "
        "ones, validated on held-out synthetic humans after every epoch."
    )
    columns = ["precision", "minutes", "steps", "images/s", "validation MPJPE (mm) after each epoch", "exit"]
    cells = [
        [
            r["precision"],
            str(r["minutes"]),
            str(r.get("steps", "—")),
            number(r.get("images_per_s")),
            ", ".join(f"{p['val_mpjpe_mm']:.1f}" for p in r.get("curve", [])) or "—",
            outcome(r),
        ]
        for r in rows
    ]
    plot = "![validation MPJPE against training time](gpu_recipe.png)"
    return section("The LPSKI recipe on synthetic data", intro, columns, cells, plot)


def projection(results: dict) -> list[str]:
    train = {(r["model"], r["precision"]): r.get("images_per_s") for r in results["train"]}
    alone = {
        (r["model"], r["precision"]): r["images_per_s"] for r in results["steps"] if r["variant"] == "as mhp-train"
    }
    intro = (
        f"25 epochs of {2 * H36M_P2_TRAIN:,} samples ({FULL_RUN_SAMPLES / 1e6:.1f} M): the 50/50 mixer's epoch is "
        f"twice the Human3.6M protocol-2 training set ({H36M_P2_TRAIN:,} crops). At mhp-train's speed on synthetic "
        "input, and at the step alone's (the ceiling when the input keeps up; real JPEGs decode at their own rate, "
        "results/data_throughput.md)."
    )
    cells = [
        [*key, hours(FULL_RUN_SAMPLES, train.get(key)), hours(FULL_RUN_SAMPLES, alone.get(key))]
        for key in dict.fromkeys([*train, *alone])
    ]
    columns = ["model", "precision", "at mhp-train's speed", "at the step alone's"]
    return section("A full 25-epoch Human3.6M + MPII run at these speeds", intro, columns, cells)


def draw_recipe(rows: list[dict], path: Path) -> None:
    curves = [r for r in rows if r.get("curve")]
    if not curves:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for r in curves:
        points = r["curve"]
        ax.plot([p["minutes"] for p in points], [p["val_mpjpe_mm"] for p in points], "o-", label=r["precision"])
    points = [p for r in curves for p in r["curve"]]  # axes from 0: a short run's points are not read as a trend
    ax.set_xlim(0, 1.1 * max(p["minutes"] for p in points))
    ax.set_ylim(0, 1.1 * max(p["val_mpjpe_mm"] for p in points))
    ax.set_xlabel("minutes since the first log row (validation included)")
    ax.set_ylabel("validation MPJPE (mm)")
    ax.set_title("LPSKI, recipe lpski_h36m_p2 on synthetic humans")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)


def write_report(results: dict, out: Path) -> None:
    """OUT/gpu.md (and OUT/gpu_recipe.png once a recipe run has a curve)."""
    settings = results["settings"]
    lines = ["# Training on a GPU", "", *machine_lines(results), ""]
    lines += steps_table(results["steps"], settings) + train_table(results["train"], settings)
    lines += torchrun_table(results["torchrun"]) + paths_table(results["paths"]) + recipe_table(results["recipe"])
    lines += projection(results)
    missing = [stage for stage in STAGES if not results[stage]]
    if missing:
        why = "not asked for with --stages, or --budget-min ran out first"
        lines += [f"Not measured: {', '.join(missing)} ({why}).", ""]
    write_text_atomic(out / "gpu.md", "\n".join(lines))
    draw_recipe(results["recipe"], out / "gpu_recipe.png")


def merge_runs(runs: list[dict]) -> dict:
    """Several runs on one machine with the same sizes as one result: each stage from the last run that has rows."""
    first = runs[0]
    for run in runs[1:]:
        if run["machine"] != first["machine"]:
            raise SystemExit("gpu_report.py: these runs were measured on different machines; report them apart")
        changed = [k for k in SIZES if run["settings"][k] != first["settings"][k]]
        if changed:
            raise SystemExit(f"gpu_report.py: these runs differ in {', '.join(changed)}; report them apart")
    merged = {"machine": first["machine"], "settings": first["settings"]}
    merged["commands"] = [command for run in runs for command in run["commands"]]
    return merged | {stage: next((run[stage] for run in reversed(runs) if run[stage]), []) for stage in STAGES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="gpu.json of gpu_train.py runs, oldest first")
    parser.add_argument("--out", type=Path, required=True, help="folder for gpu.md and gpu_recipe.png")
    args = parser.parse_args()
    results = merge_runs([json.loads(path.read_text()) for path in args.runs])
    if len(args.runs) > 1:
        write_text_atomic(args.out / "gpu.json", json.dumps(results, indent=1) + "\n")
    write_report(results, args.out)


if __name__ == "__main__":
    main()
