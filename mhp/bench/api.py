"""``mhp.benchmark``: the Python face of ``mhp-bench``. Artifacts (or the folders ``mhp.convert`` wrote) in, one
:class:`~mhp.bench.schema.BenchRow` per artifact, runtime and thread count out::

    rows = mhp.benchmark("runs/quickstart/export", threads=(1,), runs=20)
    fastest = min((r for r in rows if r.latency_p50_ms), key=lambda r: r.latency_p50_ms)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mhp.bench.schema import BenchRow
from mhp.config import BenchConfig


def benchmark(
    artifacts: str | Path | Sequence[str | Path] = (),
    *,
    checkpoint: str | Path | None = None,
    threads: Sequence[int] = (1, 2),
    runs: int = 50,
    warmup: int = 10,
    **options: Any,
) -> list[BenchRow]:
    """Latency, memory, size and 3D accuracy of ``artifacts`` (files or export folders) on this machine, against
    ``checkpoint`` as the float32 reference (default: the artifacts' source checkpoint). ``options``: any other
    field of :class:`~mhp.config.BenchConfig` (``runtimes``, ``samples``, ``accuracy``, ``memory``, ``peer``, ...).
    Nothing is written; ``mhp-bench`` adds the reports."""
    from mhp.bench.run import collect_rows

    paths = (artifacts,) if isinstance(artifacts, str | Path) else tuple(artifacts)
    cfg = BenchConfig(
        artifacts=tuple(str(p) for p in paths),
        checkpoint=None if checkpoint is None else str(checkpoint),
        threads=tuple(threads),
        runs=runs,
        warmup=warmup,
        **options,
    )
    rows, _ = collect_rows(cfg)
    return rows
