"""Warm-up, timed runs and their percentiles."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mhp.errors import MhpError


@dataclass(frozen=True)
class LatencyStats:
    runs: int
    warmup: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    min_ms: float

    @property
    def throughput_fps(self) -> float:
        """Inferences per second at batch 1, from the mean (what a stream of frames sustains)."""
        return 1000.0 / self.mean_ms


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), on already sorted values."""
    if not sorted_values:
        raise MhpError("no timed runs to summarise; pass --runs 1 or more")
    position = (len(sorted_values) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def latency_stats(times_ms: Sequence[float], warmup: int) -> LatencyStats:
    ordered = sorted(times_ms)
    return LatencyStats(
        runs=len(ordered),
        warmup=warmup,
        p50_ms=percentile(ordered, 50),
        p90_ms=percentile(ordered, 90),
        p99_ms=percentile(ordered, 99),
        mean_ms=sum(ordered) / len(ordered),
        min_ms=ordered[0],
    )


def time_calls(
    call: Callable[[], object], *, warmup: int, runs: int, clock: Callable[[], float] = time.perf_counter
) -> LatencyStats:
    """Call ``warmup`` times untimed, then ``runs`` times, each timed alone."""
    if runs < 1 or warmup < 0:
        raise MhpError(f"--runs must be at least 1 and --warmup at least 0 (got {runs}, {warmup})")
    for _ in range(warmup):
        call()
    times = []
    for _ in range(runs):
        start = clock()
        call()
        times.append((clock() - start) * 1000.0)
    return latency_stats(times, warmup)
