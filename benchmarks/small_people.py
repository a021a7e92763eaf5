"""How small a person the bundled detector finds: opencv-doc's vtest.avi (768x576, pedestrians ~80-100 px tall)
searched whole and in N x N overlapping tiles (``--detector-tiles``), every 16th frame.

make detector photos && .venv/bin/python benchmarks/small_people.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import cv2
import numpy as np

from mhp.bench.machine import describe_machine
from mhp.infer.blazepose import BODY, HIP, BlazePoseDetector
from mhp.util.fileio import write_text_atomic

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the photos' place lives with the tests
from tests.infer.test_blazepose import PHOTOS

STEP = 16


def frames() -> list[np.ndarray]:
    video = cv2.VideoCapture(str(PHOTOS / "vtest.avi"))
    out, index = [], 0
    while True:
        ok, frame = video.read()
        if not ok:
            break
        if index % STEP == 0:
            out.append(np.ascontiguousarray(frame[..., ::-1]))
        index += 1
    video.release()
    return out


def main() -> int:
    clip = frames()
    rows = []
    for tiles in (1, 2, 3):
        detector = BlazePoseDetector(tiles=tiles)
        start = time.perf_counter()
        found = [detector.detect(frame) for frame in clip]
        seconds = (time.perf_counter() - start) / len(clip)
        sizes = [2 * float(np.linalg.norm(d.keypoints[BODY] - d.keypoints[HIP])) for people in found for d in people]
        counts = [len(people) for people in found]
        spread = f"{np.percentile(sizes, 10):.0f} / {np.median(sizes):.0f} px" if sizes else "-"
        rows.append(
            f"| {tiles} | {tiles * tiles + (tiles > 1)} | {np.mean(counts):.2f} | "
            f"{100 * np.mean([c > 0 for c in counts]):.0f} % | {spread} | {1000 * seconds:.0f} ms |"
        )
    text = "\n".join(
        [
            "# Small people: opencv-doc's vtest.avi through the bundled detector, whole and in tiles",
            "",
            f"`.venv/bin/python benchmarks/small_people.py` on {describe_machine().cpu}, one LiteRT thread: "
            f"{len(clip)} frames (every {STEP}th of 795, 768x576; pedestrians about 80-100 px tall, up to a dozen "
            "in view). Person size = the diameter of the detector's full-body circle, which is 0.9-1.2x the "
            "height of the people labelled in opencv-doc's photos. No person is labelled in the clip, so false "
            "detections are not counted apart.",
            "",
            "| tiles | detector runs | people per frame | frames with anybody | size, 10th pct / median | time |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
        ]
    )
    write_text_atomic(Path("benchmarks/results/small_people.md"), text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
