"""The host soft-argmax of full-INT8 heatmaps (``mhp.runtime.decode``): milliseconds per frame on one core.

The full-size model's output, 32x32 pixels x 18 joints x 32 depth bins of int8, and the quickstart model's
16x16, random logits (the decode does the same work whatever the values). Each time is the median of 9 means of
100 calls, numpy pinned to one thread.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/host_decode.py --out benchmarks/results/host_decode.md
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np

SHAPES = {"full-size LPSKI (256 px)": (32, 32), "quickstart LPSKI (128 px)": (16, 16)}
JOINTS, DEPTH, CALLS, REPEATS = 18, 32, 100, 9


def median_ms(heatmaps: np.ndarray, scale: float) -> float:
    from mhp.runtime.decode import soft_argmax_nhwc

    soft_argmax_nhwc(heatmaps, JOINTS, DEPTH, scale=scale)
    means = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(CALLS):
            soft_argmax_nhwc(heatmaps, JOINTS, DEPTH, scale=scale)
        means.append((time.perf_counter() - start) / CALLS * 1000)
    return statistics.median(means)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the Markdown table here as well")
    args = parser.parse_args()
    if os.environ.get("OMP_NUM_THREADS") != "1":
        raise SystemExit("error: run with OMP_NUM_THREADS=1 (numpy's matrix product would use every core)")
    from mhp.bench.machine import describe_machine
    from mhp.util.fileio import write_text_atomic

    rng = np.random.default_rng(0)
    lines = [
        "# Host soft-argmax of INT8 heatmaps",
        "",
        f"`OMP_NUM_THREADS=1 benchmarks/host_decode.py` on {describe_machine().cpu}, numpy {np.__version__}; "
        f"median of {REPEATS} means of {CALLS} calls.",
        "",
        "| heatmaps | shape | scale 0.1 | scale 1.5 (shifted path) |",
        "|---|---|---:|---:|",
    ]
    for name, (height, width) in SHAPES.items():
        heatmaps = rng.integers(-128, 128, (1, height, width, JOINTS * DEPTH), dtype=np.int64).astype(np.int8)
        times = [median_ms(heatmaps, scale) for scale in (0.1, 1.5)]
        shape = f"{height}x{width}x({JOINTS}x{DEPTH})"
        lines.append(f"| {name} | {shape} | {times[0]:.3f} ms | {times[1]:.3f} ms |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        write_text_atomic(args.out, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
