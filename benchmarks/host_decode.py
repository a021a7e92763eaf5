"""The host soft-argmax of INT8 heatmaps (``mhp.runtime.decode``): milliseconds per frame on one core.

The full-size model's output, 32x32 pixels x 18 joints x 32 depth bins, and the quickstart model's 16x16, as
TFLite emits them (int8) and ONNX Runtime (uint8), random logits (the decode does the same work whatever the
values). Each time is the median of 9 means of 100 calls, numpy and OpenCV pinned to one thread.

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


def median_ms(heatmaps: np.ndarray, scale: float, zero_point: int) -> float:
    from mhp.runtime.decode import soft_argmax_nhwc

    soft_argmax_nhwc(heatmaps, JOINTS, DEPTH, scale=scale, zero_point=zero_point)
    means = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(CALLS):
            soft_argmax_nhwc(heatmaps, JOINTS, DEPTH, scale=scale, zero_point=zero_point)
        means.append((time.perf_counter() - start) / CALLS * 1000)
    return statistics.median(means)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the Markdown table here as well")
    args = parser.parse_args()
    if os.environ.get("OMP_NUM_THREADS") != "1":
        raise SystemExit("error: run with OMP_NUM_THREADS=1 (numpy's matrix product would use every core)")
    import cv2

    from mhp.bench.machine import describe_machine
    from mhp.util.fileio import write_text_atomic

    cv2.setNumThreads(1)

    rng = np.random.default_rng(0)
    lines = [
        "# Host soft-argmax of INT8 heatmaps",
        "",
        f"`OMP_NUM_THREADS=1 benchmarks/host_decode.py` on {describe_machine().cpu}, numpy {np.__version__}, "
        f"OpenCV {cv2.__version__}; median of {REPEATS} means of {CALLS} calls. Scale 0.1: the weights of the 256 "
        "byte values looked up; scale 1.5: logits past float32's exp range, decoded with an exp per value after "
        "each joint's peak is subtracted.",
        "",
        "| heatmaps | shape | dtype (runtime) | scale 0.1 | scale 1.5 (shifted path) |",
        "|---|---|---|---:|---:|",
    ]
    for name, (height, width) in SHAPES.items():
        signed = rng.integers(-128, 128, (1, height, width, JOINTS * DEPTH), dtype=np.int64).astype(np.int8)
        for heatmaps, zero_point, runtime in (
            (signed, 0, "int8 (TFLite)"),
            (signed.view(np.uint8), 128, "uint8 (ONNX Runtime)"),
        ):
            times = [median_ms(heatmaps, scale, zero_point) for scale in (0.1, 1.5)]
            shape = f"{height}x{width}x({JOINTS}x{DEPTH})"
            lines.append(f"| {name} | {shape} | {runtime} | {times[0]:.3f} ms | {times[1]:.3f} ms |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        write_text_atomic(args.out, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
