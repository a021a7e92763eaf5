"""How many CPUs this process may use: what defaults that spawn processes are sized by."""

from __future__ import annotations

import os


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask where the OS has one, else every CPU)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def loader_workers(most: int = 4) -> int:
    """Data-loading worker processes by default: ``most``, but no more than the usable CPUs."""
    return min(most, usable_cpus())


def runtime_threads(most: int = 4) -> int:
    """Inference threads by default (LiteRT, ONNX Runtime, torch): ``most``, but no more than the usable CPUs."""
    return min(most, usable_cpus())
