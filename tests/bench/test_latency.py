"""Percentiles and timing loops against numpy and a scripted clock."""

import numpy as np
import pytest

from mhp.bench.latency import latency_stats, percentile, time_calls
from mhp.errors import MhpError


@pytest.mark.parametrize("values", [[5.0], [3.0, 1.0], list(np.random.default_rng(0).gamma(2.0, 3.0, 101))])
def test_percentiles_match_numpy(values):
    ordered = sorted(values)
    for q in (0, 50, 90, 99, 100):
        assert percentile(ordered, q) == pytest.approx(np.percentile(values, q), rel=1e-12)


def test_stats_summarise_the_timed_runs():
    times = [10.0, 12.0, 11.0, 30.0, 9.0]
    stats = latency_stats(times, warmup=3)
    assert (stats.runs, stats.warmup) == (5, 3)
    assert stats.p50_ms == 11.0
    assert stats.p90_ms == pytest.approx(np.percentile(times, 90))
    assert stats.mean_ms == pytest.approx(14.4)
    assert stats.min_ms == 9.0
    assert stats.throughput_fps == pytest.approx(1000 / 14.4)


def test_warmup_calls_are_not_timed():
    ticks = iter(range(100))
    calls = []
    # each call advances the scripted clock by one tick between its start and end reading
    stats = time_calls(lambda: calls.append(1), warmup=4, runs=6, clock=lambda: next(ticks) * 0.002)
    assert len(calls) == 10
    assert stats.runs == 6
    assert stats.warmup == 4
    assert stats.p50_ms == pytest.approx(2.0)
    assert stats.min_ms == pytest.approx(2.0)


def test_bad_run_counts_are_refused():
    with pytest.raises(MhpError, match="--runs must be at least 1"):
        time_calls(lambda: None, warmup=0, runs=0)
    with pytest.raises(MhpError, match="no timed runs"):
        percentile([], 50)
