"""The bundled person detector on Debian's opencv-doc photos: latency per frame, and how its person boxes cover the
people labelled by hand in ``tests/infer/test_blazepose.py``: the person box mhp-infer reports (the detector's
region, clipped to the image), the share of the person it covers, its area and its whole region's over the person's.

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
from mhp.infer.blazepose import BlazePoseDetector, clip_box, region_of
from mhp.util.fileio import write_text_atomic

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the labels live with the tests
from tests.infer.test_blazepose import PEOPLE, PHOTOS, covered


def fit(person: list[float], boxes: list[np.ndarray], regions: list[np.ndarray]) -> str:
    """How the best person box covers a labelled person, and the areas of the box and of its whole region."""
    if not boxes:
        return "not found"
    best = max(range(len(boxes)), key=lambda k: covered(boxes[k], person))
    area = person[2] * person[3]
    box, region = boxes[best], regions[best]
    return (
        f"{100 * covered(box, person):.0f} % covered, {box[2] * box[3] / area:.1f}x its area "
        f"(region {region[2] * region[3] / area:.1f}x)"
    )


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
        regions = [region_of(b) for b in boxes]
        shown = [clip_box(r, image.shape[1], image.shape[0]) for r in regions]
        described = "; ".join(fit(p, shown, regions) for p in people) or "nobody labelled"
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
            "| photo | size | people labelled | people found | time per frame | each labelled person: its box |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            "The person box is MediaPipe's region (the square around the detector's full-body circle, 1.25x) clipped "
            "to the image; the people here stand near the borders, where the clip removes most of the slack. An "
            "upright person in the open gets the whole region: its ratio is in brackets.",
            "",
        ]
    )
    write_text_atomic(args.out, text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
