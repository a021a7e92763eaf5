"""Training on a GPU, measured in one prepared run: speed, memory and loss of every model, AMP against float32,
two processes under torchrun, and the LPSKI recipe's first epochs.

Stages, in this order (``--stages`` picks some); after each measurement OUT/gpu.json and OUT/gpu.md are rewritten,
so a run cut short keeps what it finished:

* ``steps``: the training step alone (forward, loss, backward, Adam) on one batch already on the device, per
  model in float32 and with ``--amp``, three ways: as mhp-train runs it (cudnn.benchmark off, the loss read on
  the host twice a step), without those host reads, and with cudnn.benchmark on;
* ``train``: ``mhp-train`` on built-in synthetic humans for ``--train-steps`` steps per model and precision:
  images/s (input included), peak GPU memory, loss after those steps;
* ``torchrun``: two ``mhp-train`` processes sharing the one device, NCCL first, then gloo where NCCL fails (and
  gloo with ``--sync-bn``);
* ``paths``: the device's other paths once each, pass or fail: the bone losses, an ``--amp`` run resumed,
  ``mhp-eval`` on the device and on the CPU, both lifters;
* ``recipe``: the paper's LPSKI recipe (``lpski_h36m_p2``: 256 px, batch 64, Adam 1e-3) on synthetic 3D and
  2D-only humans (50/50, as Human3.6M + MPII), float32 then ``--amp``, each for half the minutes left: the
  validation MPJPE after every epoch.

On the GPU machine, from the repository root (its own CUDA PyTorch; mhp installed without dependencies):

    python3 -m pip install -q --no-deps --no-build-isolation --no-index -e . && \
        PYTHONUNBUFFERED=1 python3 benchmarks/gpu_train.py --out $OUT --budget-min 8.5

A rehearsal on the CPU, every size small (the same code paths; NCCL fails there, so gloo runs):

    .venv/bin/python benchmarks/gpu_train.py --device cpu --image-size 64 --batch 4 --steps 3 --warmup 1 \
        --train-steps 4 --log-every 2 --recipe-samples 64 --budget-min 6 --out /tmp/gpu-rehearsal

Runs go to ``--work`` (default: a temporary folder); OUT receives gpu.json, gpu.md, gpu_recipe.png, gpu.log.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import torch
from data_throughput import cpu_name
from gpu_report import STAGES, STEP_VARIANTS, write_report
from gpu_runs import mhp_command, mhp_train, torchrun_launcher, train_flags

from mhp.config import TrainConfig
from mhp.skeleton import H36M
from mhp.train.loop import amp_dtype, build_model
from mhp.train.loss import integral_l1_loss
from mhp.util.cpus import usable_cpus
from mhp.util.fileio import write_text_atomic

MODELS = ("LPSKI", "LPSKI_LARGE", "LPWO", "LPRES", "RESNET50")
PRECISIONS = ("float32", "amp")
PACKAGES = ("numpy", "opencv-python-headless", "pillow", "pyyaml", "matplotlib", "tensorboard", "mhp")


def machine(device: torch.device) -> dict:
    """What the numbers were measured on."""
    facts = {
        "device": str(device),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),
        "cpu": cpu_name(),
        "cpus": usable_cpus(),
        "shm_gib": shared_memory_gib(),  # the loader workers hand their batches over through /dev/shm
        "packages": {name: installed_version(name) for name in PACKAGES},
    }
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        facts.update(
            gpu=props.name,
            gpu_memory_gib=round(props.total_memory / 2**30, 1),
            multiprocessors=props.multi_processor_count,
            bf16=torch.cuda.is_bf16_supported(),
            tf32_convolutions=torch.backends.cudnn.allow_tf32,
            tf32_matmul=torch.backends.cuda.matmul.allow_tf32,
            driver=nvidia_smi("driver_version"),
        )
    return facts


def shared_memory_gib() -> float | None:
    try:
        stats = os.statvfs("/dev/shm")
    except OSError:
        return None
    return round(stats.f_frsize * stats.f_blocks / 2**30, 1)


def installed_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "missing: carry its wheel (see the device tool's notes)"


def nvidia_smi(field: str) -> str:
    try:
        query = ["nvidia-smi", f"--query-gpu={field}", "--format=csv,noheader"]
        return subprocess.run(query, capture_output=True, text=True, timeout=30).stdout.strip() or "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def step_rate(backbone: str, precision: str, variant: str, args: argparse.Namespace, device: torch.device) -> dict:
    """Images/s of the training step alone, on one random batch kept on the device (no input pipeline)."""
    torch.backends.cudnn.benchmark = variant == "cudnn.benchmark"
    host_reads = variant != "no host reads"
    cfg = TrainConfig(backbone=backbone, input_size=args.image_size, allow_random_init=True, amp=precision == "amp")
    torch.manual_seed(0)
    model = build_model(cfg, H36M.num_joints, H36M.name).to(device).to(memory_format=torch.channels_last)
    low = amp_dtype(cfg.amp, device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    scaler = torch.amp.GradScaler(device.type, enabled=low == torch.float16)
    g = torch.Generator().manual_seed(0)
    images = torch.randn(args.batch, 3, args.image_size, args.image_size, generator=g)
    images = images.to(device).contiguous(memory_format=torch.channels_last)
    volume = torch.tensor([*model.heatmap_size, model.depth_bins], dtype=torch.float32)
    joints = (torch.rand(args.batch, H36M.num_joints, 3, generator=g) * (volume - 1)).to(device)
    vis, has_depth = torch.ones(args.batch, H36M.num_joints, 1, device=device), torch.ones(args.batch, 1, device=device)

    def step() -> torch.Tensor:
        with torch.autocast(device.type, dtype=low, enabled=low is not None):
            pred = model(images)
        loss = integral_l1_loss(pred.float(), joints, vis, has_depth)
        if host_reads:  # mhp-train checks the loss is finite before the backward pass
            loss.item()
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        if host_reads:  # and adds it to the log window after the step
            loss.item()
        return loss

    for _ in range(args.warmup):
        step()
    synchronize(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    for _ in range(args.steps):
        loss = step()
    synchronize(device)
    seconds = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
    row = {"model": backbone, "precision": precision, "variant": variant}
    return row | {
        "images_per_s": args.batch * args.steps / seconds,
        "ms_per_step": 1000 * seconds / args.steps,
        "peak_mib": peak,
        "loss": loss.item(),
    }


class BudgetSpentError(Exception):
    """``--budget-min`` ran out in the stage named."""


class Bench:
    """The run's results, rewritten to OUT after every measurement, and its deadline."""

    def __init__(self, args: argparse.Namespace, device: torch.device) -> None:
        self.args, self.device, self.out = args, device, Path(args.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.work = Path(args.work or tempfile.mkdtemp(prefix="mhp-gpu-"))
        self.log = self.out / "gpu.log"
        self.deadline = time.monotonic() + args.budget_min * 60
        settings = {k: v for k, v in vars(args).items() if k not in ("out", "work")}
        self.results: dict = {"machine": machine(device), "settings": settings, "commands": [" ".join(sys.argv)]}
        self.results |= {stage: [] for stage in STAGES}
        self.save()

    def minutes_left(self) -> float:
        return (self.deadline - time.monotonic()) / 60

    def add(self, stage: str, row: dict) -> None:
        """Keep ``row``; past the deadline, stop here (what is kept is already written)."""
        self.results[stage].append(row)
        self.save()
        shown = {k: (round(v, 1) if isinstance(v, float) else v) for k, v in row.items() if k != "curve"}
        print(f"[{stage}] {shown}", flush=True)
        if self.minutes_left() <= 0:
            raise BudgetSpentError(stage)

    def save(self) -> None:
        write_text_atomic(self.out / "gpu.json", json.dumps(self.results, indent=1) + "\n")
        write_report(self.results, self.out)

    def steps(self) -> None:
        for backbone in self.args.models:
            for precision in PRECISIONS:
                for variant in STEP_VARIANTS:
                    self.add("steps", step_rate(backbone, precision, variant, self.args, self.device))
                    if self.device.type == "cuda":
                        torch.cuda.empty_cache()  # the next model starts from an empty cache

    def train(self) -> None:
        for backbone in self.args.models:
            for precision in PRECISIONS:
                flags = train_flags(self.args, backbone, precision, self.args.train_steps, self.args.device)
                flags += ["--workers", str(self.args.workers)]
                row = mhp_train(flags, self.work / f"train-{backbone}-{precision}", self.log, self.args.run_timeout_s)
                self.add("train", {"model": backbone, "precision": precision, **row})

    def torchrun(self) -> None:
        """Two processes on the one device: NCCL refuses two ranks on one GPU in current releases; gloo is
        the fallback that shares it."""
        device = "cuda:0" if self.device.type == "cuda" else "cpu"
        flags = train_flags(self.args, "LPSKI", "float32", self.args.train_steps, device)
        flags[flags.index("--synthetic-samples") + 1] = str(2 * self.args.batch * self.args.train_steps)
        flags += ["--workers", str(max(1, self.args.workers // 2))]
        for backend, sync_bn in (("nccl", False), ("gloo", False), ("gloo", True)):
            if sync_bn and self.results["torchrun"][-1]["exit_code"] != 0:
                return
            out = self.work / f"torchrun-{backend}{'-sync-bn' * sync_bn}"
            more = ["--dist-backend", backend, *(["--sync-bn"] if sync_bn else [])]
            row = mhp_train([*flags, *more], out, self.log, self.args.run_timeout_s, torchrun_launcher())
            self.add("torchrun", {"backend": backend, "sync_bn": sync_bn, "processes": 2, **row})
            if backend == "nccl" and row["exit_code"] == 0:
                return

    def paths(self) -> None:
        """The device's other paths, each run once: the bone losses, --amp checkpoints resumed, mhp-eval on the
        device and a device-trained checkpoint on the CPU, and both lifters."""
        a, timeout = self.args, self.args.run_timeout_s
        short = [*train_flags(a, "LPSKI", "float32", a.train_steps, a.device), "--workers", str(a.workers)]
        bones = ["--data-2d", "synthetic", "--weight-geo", "1", "--weight-limb", "1"]
        row = mhp_train([*short, *bones], self.work / "path-bones", self.log, timeout)
        self.add("paths", {"path": "--weight-geo 1 --weight-limb 1, synthetic 2D-only samples mixed in", **row})
        amp = self.work / "path-amp"
        row = mhp_train([*short, "--amp"], amp, self.log, timeout)
        if row["exit_code"] == 0:
            row = mhp_train(["--resume", "auto", "--epochs", "2"], amp, self.log, timeout)
        self.add("paths", {"path": "--amp for an epoch, then --resume auto --epochs 2", **row})
        for device in dict.fromkeys((a.device, "cpu")):
            flags = ["--checkpoint", str(amp / "last.pt"), "--data", "synthetic", "--synthetic-samples", "128"]
            row = mhp_command("eval", [*flags, "--device", device], self.log, timeout)
            self.add("paths", {"path": f"mhp-eval --device {device} of that checkpoint", **row})
        lift = [*("--task", "lift", "--epochs", "1", "--max-steps-per-epoch", str(a.train_steps)), "--device", a.device]
        lift += ["--synthetic-samples", "8192", "--synthetic-val-samples", "512", "--log-every", str(a.log_every)]
        for supervision in ("3d", "2d"):
            row = mhp_train(
                [*lift, "--supervision", supervision], self.work / f"path-lift-{supervision}", self.log, timeout
            )
            self.add("paths", {"path": f"--task lift --supervision {supervision}", **row})

    def recipe(self) -> None:
        minutes = (self.minutes_left() - self.args.recipe_margin_min) / len(PRECISIONS)
        if minutes < 0.5:
            print(f"[recipe] skipped: {self.minutes_left():.1f} min left of --budget-min", flush=True)
            return
        for precision in PRECISIONS:
            flags = [
                *("--recipe", "lpski_h36m_p2", "--data-3d", "synthetic", "--data-2d", "synthetic"),
                *("--input-size", str(self.args.image_size), "--batch-size", str(self.args.batch)),
                *("--synthetic-samples", str(self.args.recipe_samples), "--log-every", str(self.args.log_every * 5)),
                *(
                    "--workers",
                    str(self.args.workers),
                    "--device",
                    self.args.device,
                    "--time-limit-min",
                    f"{minutes:.2f}",
                ),
                *(["--amp"] if precision == "amp" else []),
            ]
            row = mhp_train(flags, self.work / f"recipe-{precision}", self.log, minutes * 60 + 120)
            self.add("recipe", {"model": "LPSKI", "precision": precision, "minutes": round(minutes, 2), **row})


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder for gpu.json, gpu.md, gpu_recipe.png, gpu.log")
    parser.add_argument("--work", help="folder for the runs (default: a new temporary folder)")
    parser.add_argument("--device", default="cuda", help="cuda (the first GPU) or cpu for a rehearsal")
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES))
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=64, help="per process")
    parser.add_argument("--warmup", type=int, default=10, help="steps before the timed ones (stage steps)")
    parser.add_argument("--steps", type=int, default=30, help="timed steps (stage steps)")
    parser.add_argument("--train-steps", type=int, default=40, help="steps of each mhp-train run (train, torchrun)")
    parser.add_argument("--log-every", type=int, default=10)
    parser.add_argument("--workers", type=int, default=max(1, usable_cpus() - 2), help="loader processes per run")
    parser.add_argument("--recipe-samples", type=int, default=20000, help="synthetic humans of each group (recipe)")
    parser.add_argument("--budget-min", type=float, default=8.5, help="the recipe stage fills what is left of this")
    parser.add_argument("--recipe-margin-min", type=float, default=1.0, help="kept back: start-up, validation, exit")
    parser.add_argument(
        "--run-timeout-s", type=float, default=180, help="an mhp-train run (train, torchrun) is killed after"
    )
    args = parser.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("torch sees no GPU here: pass --device cpu for a rehearsal")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    device = torch.device("cuda:0" if args.device.startswith("cuda") else "cpu")
    bench = Bench(args, device)
    try:
        for stage in (s for s in STAGES if s in args.stages):
            print(f"== {stage} ({bench.minutes_left():.1f} min of the budget left)", flush=True)
            getattr(bench, stage)()
    except BudgetSpentError as spent:
        print(f"== --budget-min spent during stage {spent}: run the rest with --stages", flush=True)
    print((bench.out / "gpu.md").read_text(), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
