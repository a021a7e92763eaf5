"""Running ``mhp-train`` and ``mhp-eval`` for ``benchmarks/gpu_train.py``: each command's output appended to one log,
its failure told in one line, its speed, memory and losses read back from its ``log.csv``."""

from __future__ import annotations

import argparse
import csv
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path


def run_logged(command: list[str], log: Path, timeout_s: float) -> tuple[int, float, str]:
    """Run ``command`` with its output appended to ``log``; its exit code (-9 when its time ran out), wall
    seconds and what it said went wrong (empty when nothing did)."""
    with open(log, "a") as f:
        f.write(f"\n$ {' '.join(command)}\n")
        f.flush()
        offset = f.tell()
        start = time.monotonic()
        proc = subprocess.Popen(command, stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = proc.wait(timeout=max(timeout_s, 1))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            code = proc.wait()
            f.write(f"\n(killed after {timeout_s:.0f} s)\n")
    seconds = time.monotonic() - start
    with open(log, errors="replace") as f:
        f.seek(offset)
        said = f.read().splitlines()
    return code, seconds, "" if code == 0 else cause(said)


def cause(lines: list[str]) -> str:
    """The line that says why a run failed: mhp's one-line error, else the first exception that is not torchrun's
    summary of its children (with NCCL's "Last error:" line where it gave one)."""
    mine = [line for line in lines if line.startswith("error:")]
    if mine:
        return mine[-1]
    raised = [i for i, line in enumerate(lines) if "Error" in line and "ChildFailedError" not in line]
    last_error = [lines[i + 1] for i, line in enumerate(lines[:-1]) if line.strip() == "Last error:"]
    found = [lines[raised[0]].strip()] if raised else lines[-1:]
    return " / ".join(found + last_error[:1])[:400]


def train_flags(args: argparse.Namespace, backbone: str, precision: str, steps: int, device: str) -> list[str]:
    """mhp-train for ``steps`` steps of synthetic humans at the benchmark's size, validated on one batch."""
    return [
        *("--backbone", backbone, "--input-size", str(args.image_size), "--batch-size", str(args.batch)),
        *("--epochs", "1", "--max-steps-per-epoch", str(steps), "--log-every", str(args.log_every)),
        *("--synthetic-samples", str(args.batch * steps), "--synthetic-val-samples", str(args.batch)),
        *("--device", device, "--allow-random-init", *(["--amp"] if precision == "amp" else [])),
    ]


def logged_run(folder: Path) -> dict:
    """Speed, memory and loss from a run's log.csv: images/s is the median of its windows after the first (which
    pays for the start of the loader workers and CUDA's first kernels)."""
    with open(folder / "log.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    steps = [r for r in rows if r["loss"]]
    rates = [float(r.get("images_per_s") or r.get("poses_per_s") or 0) for r in steps]
    peaks = [float(r["gpu_peak_mib"]) for r in steps if r.get("gpu_peak_mib")]
    start = float(rows[0]["time"]) if rows else 0.0
    curve = [
        {"epoch": int(r["epoch"]), "minutes": (float(r["time"]) - start) / 60, "val_mpjpe_mm": float(r["val_mpjpe_mm"])}
        for r in rows
        if r["val_mpjpe_mm"]
    ]
    last = steps[-1] if steps else {}
    bone_losses = {k: float(last[k]) for k in ("loss_geo", "loss_limb") if last.get(k) and float(last[k]) != 0}
    return {
        "steps": int(steps[-1]["step"]) if steps else 0,
        "images_per_s": statistics.median(rates[1:] or rates) if rates else None,
        "peak_mib": max(peaks) if peaks else None,
        "loss": float(steps[-1]["loss"]) if steps else None,
        **bone_losses,
        "curve": curve,
    }


def mhp_train(flags: list[str], out: Path, log: Path, timeout_s: float, launcher: list[str] | None = None) -> dict:
    """``mhp-train FLAGS --out OUT`` (under ``launcher``, e.g. torchrun): how it ended, and its log's numbers."""
    row = mhp_command("train", [*flags, "--out", str(out)], log, timeout_s, launcher)
    if row["exit_code"] == 0:
        row |= logged_run(out)
    return row


def mhp_command(name: str, flags: list[str], log: Path, timeout_s: float, launcher: list[str] | None = None) -> dict:
    """``mhp-NAME FLAGS``: its exit code, wall seconds and, when it failed, why."""
    command = [*(launcher or [sys.executable]), "-m", f"mhp.cli.{name}", *flags]
    code, seconds, last = run_logged(command, log, timeout_s)
    return {"exit_code": code, "wall_s": round(seconds, 1), "message": last}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun_launcher() -> list[str]:
    """Two processes on this machine, meeting on loopback."""
    rendezvous = ["--master-addr", "127.0.0.1", "--master-port", str(free_port())]
    return [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", *rendezvous]
