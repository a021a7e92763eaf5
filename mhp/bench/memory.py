"""Peak resident memory of one artifact, measured in a fresh process so earlier artifacts cannot hide it.

The child imports the runtime, notes its resident memory, loads the artifact, runs one crop, and prints the
peak resident memory (the kernel's high-water mark) above that baseline: weights, arenas and the runtime's
own allocations for this model, but not the interpreter and library code every format shares.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import subprocess
import sys
from pathlib import Path

from mhp.errors import MhpError

STATUS = Path("/proc/self/status")


def status_kb(name: str) -> int | None:
    try:
        for line in STATUS.read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def peak_memory_mb(
    kind: str, path: Path, threads: int, input_size: int | None, *, timeout: float = 300
) -> float | None:
    """MB of peak resident memory ``kind`` (torch, onnx, tflite, peer) adds; None where /proc is missing.
    ``input_size`` is the crop side of image models, None for lifters (they run one 2D pose)."""
    if status_kb("VmHWM") is None:
        return None
    spec = json.dumps({"kind": kind, "path": str(path), "threads": threads, "input_size": input_size})
    try:
        done = subprocess.run(
            [sys.executable, "-m", "mhp.bench.memory", spec], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        raise MhpError(f"measuring the memory of {path} took over {timeout:.0f} s; pass --no-memory") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise MhpError(f"measuring the memory of {path} failed: {last}")
    return json.loads(done.stdout.strip().splitlines()[-1])["peak_mb"]


def reset_peak() -> int | None:
    """Reset the kernel's high-water mark to the current resident size (Linux ``clear_refs``); return it."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    return status_kb("VmRSS")


def load_and_run(kind: str, path: str, threads: int, input_size: int | None) -> float:
    import numpy as np

    if kind == "torch":
        import torch

        from mhp.models import model_task
        from mhp.models.checkpoint import load_checkpoint
        from mhp.models.runner import TorchLiftRunner, TorchRunner

        torch.set_num_threads(threads)
        baseline = reset_peak()
        model = load_checkpoint(path)
        lifter = model_task(model.model_name) == "lift"
        runner = TorchLiftRunner(model, batch_size=1) if lifter else TorchRunner(model, batch_size=1)
    elif kind == "peer":
        from mhp.bench.peer import PeerRunner
        from mhp.util.optional import require

        require("ai_edge_litert.interpreter")
        baseline = reset_peak()
        runner = PeerRunner(path, input_size=input_size, threads=threads)
    else:
        from mhp.runtime import load_runner
        from mhp.runtime.manifest import read_manifest
        from mhp.util.optional import require

        require("onnxruntime" if kind == "onnx" else "ai_edge_litert.interpreter")
        importlib.import_module(f"mhp.runtime.{kind}")  # with the host decode's OpenCV: code every artifact shares
        manifest = read_manifest(path)
        baseline = reset_peak()
        runner = load_runner(path, threads=threads, manifest=manifest)
    if input_size is None:  # a lifter
        runner(runner.example_input())
    else:
        runner.pose(np.zeros((1, 3, input_size, input_size), np.float32))
    return (status_kb("VmHWM") - baseline) / 1024


if __name__ == "__main__":
    spec = json.loads(sys.argv[1])
    print(json.dumps({"peak_mb": load_and_run(spec["kind"], spec["path"], spec["threads"], spec["input_size"])}))
