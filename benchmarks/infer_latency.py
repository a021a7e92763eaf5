"""End-to-end ``mhp.Predictor`` latency per frame, by stage: crop, model call (decode included), geometry.

What a user's frame costs beyond the forward pass: one person on a 640x480 frame, the centred box, default
intrinsics; median over ``--runs`` frames after warm-up, each stage timed alone.

    .venv/bin/python benchmarks/infer_latency.py runs/quickstart/export/lpski_*.tflite --out benchmarks/results
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from mhp.bench.machine import describe_machine
from mhp.infer.boxes import centred_box
from mhp.infer.camera import default_intrinsics
from mhp.infer.predictor import Predictor


def stage_times(predictor: Predictor, image: np.ndarray, runs: int, warmup: int) -> dict[str, float]:
    box = centred_box(image.shape[1], image.shape[0])
    intrinsics = default_intrinsics(image.shape[1], image.shape[0])
    samples: dict[str, list[float]] = {"crop": [], "model": [], "geometry": [], "total": []}
    for i in range(warmup + runs):
        t0 = time.perf_counter()
        pixels, affine, crop_box = predictor.crop(image, box)
        t1 = time.perf_counter()
        outputs = predictor.runner.pose(pixels.transpose(2, 0, 1)[None].astype(np.float32))
        t2 = time.perf_counter()
        depth = predictor.root_depths(None, [crop_box], intrinsics)[0]
        predictor.person(
            box, (pixels, affine, crop_box), outputs["coords"][0], outputs["confidence"][0], *depth, intrinsics
        )
        t3 = time.perf_counter()
        if i >= warmup:
            for key, value in zip(samples, (t1 - t0, t2 - t1, t3 - t2, t3 - t0), strict=True):
                samples[key].append(value * 1000)
    return {key: statistics.median(values) for key, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("artifacts", nargs="+")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    image = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    machine = describe_machine()
    rows = []
    for artifact in args.artifacts:
        predictor = Predictor(artifact, threads=args.threads)
        rows.append({"artifact": artifact, **stage_times(predictor, image, args.runs, args.warmup)})
    lines = [
        f"# mhp.Predictor latency per frame (640x480, one person), {args.threads} thread(s), median of {args.runs}",
        "",
        f"Machine: {machine.cpu}, {machine.cores} cores, {machine.simd}, {machine.system}; command: "
        f"`.venv/bin/python benchmarks/infer_latency.py {' '.join(args.artifacts)} --threads {args.threads}`",
        "",
        "| artifact | crop ms | model call ms (decode incl.) | geometry ms | total ms | frames/s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {Path(row['artifact']).name} | {row['crop']:.2f} | {row['model']:.2f} | {row['geometry']:.2f} "
            f"| {row['total']:.2f} | {1000 / row['total']:.0f} |"
        )
    out = Path(args.out)
    (out / "infer_latency.md").write_text("\n".join(lines) + "\n")
    record = {"threads": args.threads, "runs": args.runs, "rows": rows}
    (out / "infer_latency.json").write_text(json.dumps(record, indent=2) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
