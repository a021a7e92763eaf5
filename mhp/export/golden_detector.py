"""Golden files for the apps' person detector and multi-person tracker (``detector/`` beside the decoder's cases).

Python owns the reference (``mhp.infer.blazepose``, ``mhp.infer.tracking``). Each detector case (``scripted``,
and ``nobody``: the same outputs with every score just under the threshold) holds the model's
raw outputs (``boxes.f32`` ``(2254, 12)`` and ``scores.f32`` ``(2254,)``, little-endian) for an image of a given
size, and ``expected.json`` with every stage an app computes: the letterbox (affine, padding), the anchors kept
with their scores, boxes and keypoints, the detections after weighted suppression in image pixels, the crop box,
region and person box of each, and whether anybody is there. Real cases add the image (``image.u8``, RGB) and the
letterboxed input LiteRT was given (``input.f32``): one real LiteRT run on a photo with people, one on a photo
without. ``tracking.json`` scripts a multi-person video: the boxes the detector would answer in each frame and each
track's pose, with the tracker's ids, boxes, detector runs and written people after every frame.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mhp.infer.blazepose import (
    ANCHORS,
    CROP_MARGIN,
    INPUT_SIZE,
    MIN_SCORE,
    NUM_ANCHORS,
    REGION_MARGIN,
    SCORE_CLIP,
    STRIDES,
    SUPPRESSION_IOU,
    BlazePoseDetector,
    Detection,
    body_box,
    clip_box,
    decode,
    detections_from_outputs,
    letterbox,
    letterbox_affine,
    region_of,
)
from mhp.infer.tracking import DETECT_EVERY, MAX_MISSED, MIN_IOU, Tracks
from mhp.util.fileio import atomic_path, write_json

PRESENCE_SCORE = 0.5  # a person is there when a detection scores this (benchmarks/results/presence.md)
TRACK_CONFIDENCE = 0.05  # mean joint confidence that keeps a followed track (mhp.infer.boxes.MIN_TRACK_CONFIDENCE)
TOLERANCES = {"anchor": 1e-9, "score": 1e-6, "box": 1e-5, "pixels": 1e-3, "input": 0.01}


def write_floats(path: Path, array: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(np.ascontiguousarray(array, dtype="<f4").tobytes())


def expected_detections(
    raw_boxes: np.ndarray, raw_scores: np.ndarray, width: int, height: int, padding: np.ndarray
) -> dict[str, Any]:
    """Every stage from the raw outputs to the people, for an image of ``width`` x ``height``."""
    scores, boxes, keypoints = decode(raw_boxes, raw_scores, ANCHORS, min_score=PRESENCE_SCORE)
    logits = np.clip(raw_scores.astype(np.float64), -SCORE_CLIP, SCORE_CLIP)
    kept = np.flatnonzero(1.0 / (1.0 + np.exp(-logits)) >= PRESENCE_SCORE)
    people = detections_from_outputs(raw_boxes, raw_scores, padding, (width, height), min_score=PRESENCE_SCORE)
    return {
        "image_size_px": [width, height],
        "letterbox_affine": letterbox_affine(width, height).tolist(),
        "padding": padding.tolist(),
        "kept_anchors": kept.tolist(),
        "kept_scores": scores.tolist(),
        "kept_boxes": boxes.tolist(),
        "kept_keypoints": keypoints.tolist(),
        "detections": [person_record(d, width, height) for d in people],
        "anybody": bool(people),
    }


def person_record(detection: Detection, width: int, height: int) -> dict[str, Any]:
    crop = body_box(detection)
    region = region_of(crop)
    return {
        "score": detection.score,
        "face_box_xywh_px": detection.box.tolist(),
        "keypoints_px": detection.keypoints.tolist(),
        "crop_box_xywh_px": crop.tolist(),
        "region_xywh_px": region.tolist(),
        "person_box_xywh_px": clip_box(region, width, height).tolist(),
    }


def scripted_outputs() -> tuple[np.ndarray, np.ndarray]:
    """Raw outputs exercising every rule: two overlapping anchors merged, a clipped logit, one body seen twice
    (the weaker dropped), a score of exactly the threshold (kept), one just below it (dropped), the rest far below."""
    boxes = np.zeros((NUM_ANCHORS, 12), np.float32)
    scores = np.full(NUM_ANCHORS, -30.0, np.float32)
    person = [4.0, -6.0, 40.0, 44.0, 3.0, 50.0, 2.0, -30.0, 1.0, 20.0, 0.5, -15.0]
    k = 28 * 2 * 10 + 2 * 12  # stride 8, cell (12, 10)
    boxes[k], scores[k] = person, 3.0
    boxes[k + 1], scores[k + 1] = np.add(person, [2.0, 1.0, -4.0, 2.0, 1.0, -1.0] * 2), 1.5  # merged into it
    far = 1568 + 2 * (14 * 9 + 3)  # stride 16, cell (3, 9)
    boxes[far], scores[far] = [-3.0, 5.0, 30.0, 30.0, 0.0, 40.0, 0.0, -40.0, 0.0, 10.0, 0.0, -20.0], 150.0  # clipped
    twice = 1568 + 2 * (14 * 12 + 3)  # stride 16, cell (3, 12): the same body upside down, its face box apart
    boxes[twice], scores[twice] = [0.0, 0.0, 30.0, 30.0, 0.0, -8.0, 0.0, 72.0, 0.0, -2.0, 0.0, 40.0], 2.0
    edge = 1568 + 392 + 6 * (7 * 2 + 5) + 4  # stride 32, cell (5, 2), its fifth anchor
    boxes[edge], scores[edge] = [0.0, 0.0, 50.0, 60.0, 1.0, 30.0, -1.0, -50.0, 0.0, 15.0, 0.0, -25.0], 0.0
    scores[1568 + 2 * (14 * 2 + 11)] = -0.001  # a score just below 0.5: dropped
    return boxes, scores


def real_case(detector: BlazePoseDetector, image: np.ndarray) -> dict[str, Any]:
    """One LiteRT run of the bundled detector on ``image`` (RGB uint8), with its input and raw outputs."""
    tensor, padding = letterbox(image)
    interpreter = detector.interpreter
    interpreter.set_tensor(detector.input, tensor)
    interpreter.invoke()
    boxes = interpreter.get_tensor(detector.boxes_out)[0]
    scores = interpreter.get_tensor(detector.scores_out)[0].reshape(-1)
    return {"boxes": boxes, "scores": scores, "padding": padding, "image": image, "input": tensor[0]}


def write_case(folder: Path, name: str, case: dict[str, Any], width: int, height: int) -> dict[str, Any]:
    target = folder / name
    write_floats(target / "boxes.f32", case["boxes"])
    write_floats(target / "scores.f32", case["scores"])
    record = {"name": name, "boxes": "boxes.f32", "scores": "scores.f32", "expected": "expected.json"}
    if "image" in case:
        with atomic_path(target / "image.u8") as tmp:
            tmp.write_bytes(np.ascontiguousarray(case["image"], np.uint8).tobytes())
        write_floats(target / "input.f32", case["input"])
        record.update(image="image.u8", input="input.f32")
    result = expected_detections(case["boxes"], case["scores"], width, height, case["padding"])
    write_json(target / "expected.json", result)
    return {**record, "image_size_px": [width, height]}


class Answers:
    """A scripted detector: the boxes it would find in each frame, and the frames it was asked about."""

    def __init__(self, per_frame: list[list[list[float]]]) -> None:
        self.per_frame, self.asked, self.index = per_frame, [], 0

    def __call__(self, frame: np.ndarray) -> list[np.ndarray]:
        self.asked.append(self.index)
        return [np.array(b, np.float64) for b in self.per_frame[self.index]]


def tracking(rng: np.random.Generator, width: int = 640, height: int = 480) -> dict[str, Any]:
    """Two people walking, a third arriving, one lost (unsure pose, then missed detections) and one leaving."""
    left, right = np.array([60.0, 100, 120, 300]), np.array([420.0, 90, 130, 320])
    detections: list[list[list[float]]] = []
    for t in range(26):
        found = [left + np.array([6.0 * t, 0, 0, 0]), right - np.array([5.0 * t, 0, 0, 0])]
        if t >= 12:
            found.append([250.0 + 3 * t, 40, 90, 200])  # somebody new
        if t >= 14:
            found.pop(1)  # the right person is no longer detected
        detections.append([list(map(float, b)) for b in (found[::-1] if t % 2 else found)])
    body = rng.uniform(0.1, 0.9, size=(18, 2))
    confidences = {t: 0.01 for t in range(15, 19)}  # the left person's pose turns unsure for four frames
    answers = Answers(detections)
    tracks = Tracks(answers, (width, height), min_confidence=TRACK_CONFIDENCE)
    frame = np.zeros((height, width, 3), np.uint8)
    steps = []
    for t in range(len(detections)):
        answers.index = t
        asked = len(answers.asked)
        cut = tracks.boxes(frame, t)
        people = []
        for track_id, box in cut:
            joints = box[:2] + body * box[2:]
            if track_id == 1 and t >= 14:
                joints = joints + np.array([1000.0, 0.0])  # the right person walks out of the image
            confidence = np.full(18, confidences.get(t, 0.5) if track_id == 0 else 0.5) * rng.uniform(0.8, 1.2, 18)
            found_now = tracks.found_now(track_id)
            written = tracks.follow(track_id, joints, confidence)
            people.append(
                {
                    "track_id": track_id,
                    "box_xywh_px": np.asarray(box).tolist(),
                    "joints_img_px": joints.tolist(),
                    "confidence": confidence.tolist(),
                    "found_now": found_now,
                    "written": written,
                    "box_after_xywh_px": next(tr.box for tr in tracks.tracks if tr.id == track_id).tolist(),
                }
            )
        steps.append({"index": t, "detector_ran": len(answers.asked) > asked, "people": people})
    return {
        "image_size_px": [width, height],
        "min_confidence": TRACK_CONFIDENCE,
        "detect_every": DETECT_EVERY,
        "max_missed": MAX_MISSED,
        "min_iou": MIN_IOU,
        "detections": detections,
        "steps": steps,
    }


def write_detector_golden(
    out: str | Path, detector: BlazePoseDetector | None = None, photos: dict[str, np.ndarray] | None = None
) -> Path:
    """Write ``out``/``detector.json`` and the cases; with ``detector`` and ``photos`` (name -> RGB image) also one
    real LiteRT run per photo."""
    folder = Path(out)
    boxes, scores = scripted_outputs()
    portrait = (480, 640)
    padding = letterbox(np.zeros((portrait[1], portrait[0], 3), np.uint8))[1]
    entries = [write_case(folder, "scripted", {"boxes": boxes, "scores": scores, "padding": padding}, *portrait)]
    nobody = np.where(scores >= 0, -0.01, scores).astype(np.float32)  # every anchor just under the threshold
    landscape = (640, 360)
    padding = letterbox(np.zeros((landscape[1], landscape[0], 3), np.uint8))[1]
    entries.append(write_case(folder, "nobody", {"boxes": boxes, "scores": nobody, "padding": padding}, *landscape))
    for name, image in (photos or {}).items():
        if detector is not None:
            entries.append(write_case(folder, name, real_case(detector, image), image.shape[1], image.shape[0]))
    write_json(folder / "tracking.json", tracking(np.random.default_rng(3)))
    manifest = {
        "format_name": "mhp-golden-detector",
        "version": 1,
        "model": "mediapipe 0.10.21 pose_detection.tflite",
        "input_size": INPUT_SIZE,
        "strides": list(STRIDES),
        "num_anchors": NUM_ANCHORS,
        "anchors": ANCHORS.tolist(),
        "score_clip": SCORE_CLIP,
        "min_score": PRESENCE_SCORE,
        "graph_min_score": MIN_SCORE,
        "suppression_iou": SUPPRESSION_IOU,
        "crop_margin": CROP_MARGIN,
        "region_margin": REGION_MARGIN,
        "layout": "boxes (2254, 12): x, y, w, h, then 4 keypoints (x, y), in input pixels relative to the anchor;"
        " scores (2254,) logits; image.u8 (H, W, 3) RGB; input.f32 (224, 224, 3) in [-1, 1]",
        "tolerances": TOLERANCES,
        "tracking": "tracking.json",
        "cases": entries,
    }
    write_json(folder / "detector.json", manifest)
    return folder / "detector.json"
