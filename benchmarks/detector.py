"""The bundled person detector on Debian's opencv-doc photos: latency per frame, and how its person boxes cover the
people labelled by hand in ``tests/infer/test_blazepose.py`` (share covered, box area over the person's).

make detector photos && .venv/bin/python benchmarks/detector.py --repeats 30
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from mhp.bench.machine import describe_machine
from mhp.infer.blazepose import BlazePoseDetector
from mhp.util.fileio import write_text_atomic

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the labels live with the tests
from tests.infer.test_blazepose import PEOPLE, PHOTOS, covered


def measure(repeats: int, threads: int) -> list[str]:
    detector = BlazePoseDetector(threads=threads)
    rows = []
    for name, people in sorted(PEOPLE.items()):
        image = cv2.imread(str(PHOTOS / name))[..., ::-1].copy()
        times = []
        for _ in range(repeats + 2):
            start = time.perf_counter()
            boxes = detector(image)
            times.append(time.perf_counter() - start)
        fits = [max(((covered(b, p), b[2] * b[3] / (p[2] * p[3])) for b in boxes), default=(0.0, 0.0)) for p in people]
        described = "; ".join(f"{100 * c:.0f} % covered, {a:.1f}x its area" for c, a in fits) or "nobody labelled"
        rows.append(
            f"| {name} | {image.shape[1]}x{image.shape[0]} | {len(people)} | {len(boxes)} | "
            f"{1000 * np.median(times[2:]):.1f} ms | {described} |"
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/detector.md"))
    args = parser.parse_args()
    rows = measure(args.repeats, args.threads)
    machine = describe_machine()
    text = "\n".join(
        [
            "# The bundled person detector (BlazePose's pose_detection.tflite, mediapipe 0.10.21) on real photos",
            "",
            f"`.venv/bin/python benchmarks/detector.py --repeats {args.repeats} --threads {args.threads}`: "
            f"{machine.cpu} ({machine.logical_cpus} CPUs), {args.threads} LiteRT thread(s); time = median of "
            f"{args.repeats} calls after 2 warm-up calls (letterbox, model, decoding, suppression).",
            "",
            "| photo | size | people labelled | boxes | time per frame | each labelled person: best box |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
        ]
    )
    write_text_atomic(args.out, text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
