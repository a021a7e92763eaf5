"""Which crop should the pose model get from the bundled detector? Synthetic people with known joints, cut by the
detector's body circle at several margins, by their true box, and turned upright by the detector's lean.

Two sets of the same people: as rendered (leaning up to ~25 degrees), and turned by a random angle in [-90, 90]
degrees about the principal point (a camera roll: the true 2D joints turn with the image, the 3D joints about the
optical axis). Errors: mean 2D joint error in pixels and root-relative MPJPE in mm against the truth.

make detector && .venv/bin/python benchmarks/detector_crops.py --model runs/quickstart/export/lpski_fp32.onnx
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from mhp.bench.machine import describe_machine
from mhp.data.synthetic import SyntheticHumans
from mhp.infer.blazepose import CROP_MARGIN, BlazePoseDetector, body_box, lean_deg
from mhp.infer.predictor import Predictor
from mhp.util.fileio import write_text_atomic

SIZE = (384, 384)
MARGINS = (0.7, 0.8, 0.85, 0.9, 1.0, 1.25)
LEANS = ((30, 180), (15, 120), (30, 120), (45, 120))  # a lean near 180: often the body read upside down


def rolled(image: np.ndarray, record, angle_deg: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The image turned by ``angle_deg`` (counter-clockwise on screen) about the principal point, with the true 2D
    joints and camera joints turned alike."""
    turn = cv2.getRotationMatrix2D(tuple(map(float, record.principal)), angle_deg, 1.0)
    image = cv2.warpAffine(image, turn, (image.shape[1], image.shape[0]), flags=cv2.INTER_LINEAR)
    joints_img = record.joints_img[:, :2] @ turn[:, :2].T + turn[:, 2]
    joints_cam = record.joints_cam.copy()
    joints_cam[:, :2] = joints_cam[:, :2] @ turn[:, :2].T  # the same linear turn: fx = fy
    return np.ascontiguousarray(image), joints_img, joints_cam


def joints_box(joints_img: np.ndarray) -> np.ndarray:
    low, high = joints_img.min(axis=0), joints_img.max(axis=0)
    return np.concatenate([low, high - low])


def errors(predictor: Predictor, image, joints_img, joints_cam, box, rotation_deg: float = 0.0) -> tuple[float, float]:
    person = predictor.predict(image, boxes=[box], rotations_deg=[rotation_deg])[0]
    truth = joints_cam - joints_cam[predictor.root]
    error_2d = float(np.linalg.norm(person.joints_img - joints_img, axis=1).mean())
    return error_2d, float(np.linalg.norm(person.joints_rel_mm - truth, axis=1).mean())


def measure(detector: BlazePoseDetector, predictor: Predictor, people: SyntheticHumans, turn: bool, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    rows: dict[str, list[tuple[float, float]]] = {}
    found = 0
    for i in range(len(people)):
        record = people.record(i)
        image = np.ascontiguousarray(people.load_image(i)[..., ::-1])
        angle = float(rng.uniform(-90, 90)) if turn else 0.0
        image, joints_img, joints_cam = rolled(image, record, angle)
        detections = detector.detect(image)
        if not detections:
            continue
        found += 1
        best = detections[0]
        cases = {"true box (joints' hull)": (joints_box(joints_img), 0.0)}
        cases |= {f"body circle x {m:g}": (body_box(best, m), 0.0) for m in MARGINS}
        cases[f"body circle x {CROP_MARGIN:g}, turned upright by the lean"] = (body_box(best), lean_deg(best))
        for least, most in LEANS:
            lean = lean_deg(best) if least < abs(lean_deg(best)) <= most else 0.0
            name = f"body circle x {CROP_MARGIN:g}, turned when {least} < abs(lean) <= {most} deg"
            cases[name] = (body_box(best), lean)
        for name, (box, rotation) in cases.items():
            if box[2] > 0 and box[3] > 0:
                rows.setdefault(name, []).append(errors(predictor, image, joints_img, joints_cam, box, rotation))
    return {"found": found, "rows": {k: np.mean(v, axis=0) for k, v in rows.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/detector_crops.md"))
    args = parser.parse_args()
    detector, predictor = BlazePoseDetector(min_score=0.5), Predictor(args.model)
    people = SyntheticHumans(args.count, seed=2024, image_size=SIZE)
    sets = {
        "as rendered": measure(detector, predictor, people, False, 1),
        "turned +-90 deg": measure(detector, predictor, people, True, 2),
    }
    lines = [
        "# Crops from the bundled detector: margin and lean",
        "",
        f"`.venv/bin/python benchmarks/detector_crops.py --model {args.model} --count {args.count}` on "
        f"{describe_machine().cpu}. {args.count} synthetic people ({SIZE[0]}x{SIZE[1]}), each cut for the pose model "
        "from the box named (then widened to a square and 1.25x, as in training); mean over the people the detector "
        "found (score >= 0.5). 2D: mean joint error in image pixels; 3D: root-relative MPJPE in mm.",
        "",
        "| crop | " + " | ".join(f"{k} ({v['found']} found): 2D px, 3D mm" for k, v in sets.items()) + " |",
        "|---" * (1 + len(sets)) + "|",
    ]
    for name in next(iter(sets.values()))["rows"]:
        cells = [f"{s['rows'][name][0]:.1f}, {s['rows'][name][1]:.1f}" for s in sets.values()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    text = "\n".join([*lines, ""])
    write_text_atomic(args.out, text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
