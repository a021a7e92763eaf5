"""When is somebody there? Detector scores and pose confidences on people and on scenes without people.

Positives: synthetic people (``SyntheticHumans``). Negatives: synthetic backgrounds without a person (the renderer's
own backgrounds) and random crops of Debian opencv-doc's photos without people (fruits, box, starry_night). For each
image: the best detector score (``mhp.infer.blazepose``, threshold 0.01) and the mean joint confidence (peak voxel
probability) of ``--model`` on the person's box (positives) or the centred box (negatives). Writes the ROC of both
and the operating points to ``benchmarks/results/presence.md``.

make detector photos && .venv/bin/python benchmarks/presence.py --model runs/quickstart/export/lpski_int8.tflite
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from mhp.bench.machine import describe_machine
from mhp.data.render import random_background
from mhp.data.synthetic import SyntheticHumans
from mhp.infer.blazepose import BlazePoseDetector
from mhp.infer.predictor import Predictor
from mhp.util.fileio import write_text_atomic

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the photos' place lives with the tests
from tests.infer.test_blazepose import PEOPLE, PHOTOS

SIZE = (384, 384)
DETECTOR_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
CONFIDENCE_THRESHOLDS = (0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.1)
RULES = ((0.5, 0.0), (0.5, 0.03), (0.5, 0.04), (0.5, 0.05), (0.6, 0.0), (0.6, 0.03), (0.4, 0.04))


def empty_photo_crops(count: int, seed: int) -> list[np.ndarray]:
    """Random crops (a third to all of the shorter side) of the photos without people, resized to ``SIZE``."""
    rng = np.random.default_rng(seed)
    photos = [cv2.imread(str(PHOTOS / name))[..., ::-1] for name, people in sorted(PEOPLE.items()) if not people]
    crops = []
    for i in range(count):
        photo = photos[i % len(photos)]
        side = int(rng.uniform(1 / 3, 1) * min(photo.shape[:2]))
        y, x = rng.integers(0, photo.shape[0] - side + 1), rng.integers(0, photo.shape[1] - side + 1)
        crops.append(cv2.resize(np.ascontiguousarray(photo[y : y + side, x : x + side]), SIZE))
    return crops


def scores(detector: BlazePoseDetector, predictor: Predictor, images: list[np.ndarray], boxes: list) -> np.ndarray:
    """``(N, 2)``: the best detector score (0 when none) and the mean joint confidence on ``boxes``."""
    out = []
    for image, box in zip(images, boxes, strict=True):
        found = detector.detect(image)
        people = predictor.predict(image, boxes=None if box is None else [box])  # None: the centred box
        out.append([max((d.score for d in found), default=0.0), float(np.mean(people[0].confidence))])
    return np.array(out)


def roc_rows(
    positives: np.ndarray, negatives: dict[str, np.ndarray], rules: list[tuple[float, float]], label
) -> list[str]:
    """One table row per ``(detector, confidence)`` threshold pair: the share of each set that passes both."""
    rows = []
    for rule in rules:
        cells = [f"{100 * np.mean(passes(positives, rule)):.1f} %"]
        cells += [f"{100 * np.mean(passes(n, rule)):.1f} %" for n in negatives.values()]
        rows.append(f"| {label(rule)} | " + " | ".join(cells) + " |")
    return rows


def passes(values: np.ndarray, rule: tuple[float, float]) -> np.ndarray:
    return (values[:, 0] >= rule[0]) & (values[:, 1] >= rule[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/presence.md"))
    args = parser.parse_args()
    detector, predictor = BlazePoseDetector(min_score=0.01), Predictor(args.model)
    people = SyntheticHumans(args.count, seed=2024, image_size=SIZE)
    positives = scores(
        detector,
        predictor,
        [np.ascontiguousarray(people.load_image(i)[..., ::-1]) for i in range(args.count)],
        [people.record(i).bbox_raw for i in range(args.count)],
    )
    rng = np.random.default_rng(7)
    backgrounds = [np.ascontiguousarray(random_background(rng, SIZE)[..., ::-1]) for _ in range(args.count)]
    centred = [None] * args.count
    negatives = {
        "synthetic backgrounds": scores(detector, predictor, backgrounds, centred),
        "crops of photos without people": scores(detector, predictor, empty_photo_crops(args.count, 8), centred),
    }
    header = "| threshold | people found | " + " | ".join(f"{k}: false alarms" for k in negatives) + " |"
    rule = "|---" * (2 + len(negatives)) + "|"
    machine = describe_machine()
    lines = [
        "# Presence: detector scores and pose confidences with and without a person",
        "",
        f"`.venv/bin/python benchmarks/presence.py --model {args.model} --count {args.count}` on {machine.cpu}. "
        f"{args.count} synthetic people ({SIZE[0]}x{SIZE[1]} renders, pose on their true box) against "
        f"{args.count} synthetic backgrounds and {args.count} random crops of opencv-doc's photos without people "
        "(pose on the centred box).",
        "",
        "## Detector score (best detection per image)",
        "",
        header,
        rule,
        *roc_rows(positives, negatives, [(t, 0.0) for t in DETECTOR_THRESHOLDS], lambda r: f"{r[0]:g}"),
        "",
        "## Mean joint confidence of the pose model (peak voxel probability)",
        "",
        header,
        rule,
        *roc_rows(positives, negatives, [(0.0, t) for t in CONFIDENCE_THRESHOLDS], lambda r: f"{r[1]:g}"),
        "",
        "## Both: detector score and joint confidence",
        "",
        header.replace("threshold", "detector, confidence"),
        rule,
        *roc_rows(positives, negatives, list(RULES), lambda r: f"{r[0]:g}, {r[1]:g}"),
        "",
        "Medians: people "
        + ", ".join(f"{np.median(positives[:, c]):.3f}" for c in (0, 1))
        + "; "
        + "; ".join(f"{k} " + ", ".join(f"{np.median(n[:, c]):.3f}" for c in (0, 1)) for k, n in negatives.items())
        + " (detector score, joint confidence).",
        "",
    ]
    text = "\n".join(lines)
    write_text_atomic(args.out, text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
