"""BlazePose's person detector (MediaPipe's ``pose_detection.tflite``): anchors, decoding and suppression as
MediaPipe's pose-detection graph does them, and the person box from its alignment keypoints.

The graph (``mediapipe/modules/pose_detection/pose_detection_cpu.pbtxt``) letterboxes the image into 224x224
(aspect kept, black padding, pixels to [-1, 1]), runs the model (2254 anchors x 12 box values, 2254 scores),
decodes against SSD anchors (5 layers, strides 8, 16, 32, 32, 32, fixed unit size, centres at cell + 0.5; layers
of one stride merged, two anchors per cell and layer), keeps sigmoid scores of at least 0.2 (raw scores clipped
to +-100), merges overlapping detections (IoU > 0.3) by their score-weighted mean and undoes the letterbox.

Each detection has a box (around the face) and four keypoints: 0 the mid-hip centre, 1 a point whose distance
from it is the radius of a circle holding the whole body (and whose direction gives the body's rotation), 2 and 3
the same for the upper body.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mhp.data.transforms import warp_patch
from mhp.errors import MhpError
from mhp.util.fileio import is_file
from mhp.util.optional import require

INPUT_SIZE = 224
STRIDES = (8, 16, 32, 32, 32)
ANCHORS_PER_CELL = 2  # one aspect ratio (1.0) plus the interpolated scale, per layer
NUM_ANCHORS = 2254
NUM_KEYPOINTS = 4
SCORE_CLIP = 100.0
MIN_SCORE = 0.2
SUPPRESSION_IOU = 0.3
BODY_IOU = 0.5  # two detections whose body boxes overlap more are one person seen twice (e.g. upright and inverted)
HIP, BODY = 0, 1  # the alignment keypoints of the full body
CROP_MARGIN = 0.85  # the pose model's box: the body circle's square shrunk to the joints (detector_crops.md)
TURNED_LEANS = (30.0, 120.0)  # crops are turned upright for leans in this range, in degrees (detector_crops.md)
REGION_MARGIN = 1.25  # MediaPipe's region: the body circle's square enlarged; it holds a kicking footballer's limbs
BUNDLED = Path(sys.prefix) / "share" / "mhp" / "pose_detection.tflite"  # where make detector unpacks it
SHA256 = "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c"  # the file in mediapipe 0.10.21


@dataclass(frozen=True)
class Detection:
    """One person: ``score`` in 0..1, ``box`` ``[x, y, w, h]`` and ``keypoints`` ``(4, 2)`` in image pixels."""

    score: float
    box: np.ndarray
    keypoints: np.ndarray


def ssd_anchors(input_size: int = INPUT_SIZE, strides: tuple[int, ...] = STRIDES) -> np.ndarray:
    """``(N, 2)`` anchor centres in [0, 1] (x, y), in the model's output order; anchors have unit size."""
    centres = []
    layer = 0
    while layer < len(strides):
        same = layer
        while same < len(strides) and strides[same] == strides[layer]:
            same += 1
        cells = int(np.ceil(input_size / strides[layer]))
        per_cell = ANCHORS_PER_CELL * (same - layer)
        grid = (np.arange(cells) + 0.5) / cells
        y, x = np.meshgrid(grid, grid, indexing="ij")
        centres.append(np.repeat(np.stack([x.ravel(), y.ravel()], axis=1), per_cell, axis=0))
        layer = same
    return np.concatenate(centres)


ANCHORS = ssd_anchors()  # fixed by the graph: computed once, not per frame
ANCHORS.setflags(write=False)


def letterbox_affine(width: int, height: int, size: int = INPUT_SIZE) -> np.ndarray:
    """The 2x3 image -> input affine of the graph's letterbox: the image's centred square (side ``max(W, H)``)
    onto the ``size`` x ``size`` input, corner to corner."""
    side = max(width, height)
    scale = size / side
    return np.array([[scale, 0.0, (side - width) / 2 * scale], [0.0, scale, (side - height) / 2 * scale]])


def letterbox(image: np.ndarray, size: int = INPUT_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """RGB uint8 ``(H, W, 3)`` -> the model input ``(1, size, size, 3)`` float32 in [-1, 1] and the padding
    ``[left, top, right, bottom]`` as fractions of the input side. As MediaPipe's OpenCV image-to-tensor
    converter: a bilinear warp of the uint8 pixels with a black (zero) border, then the value range mapped."""
    height, width = image.shape[:2]
    pixels = warp_patch(image, letterbox_affine(width, height, size), size)
    side = max(width, height)
    padding = np.array([side - width, side - height, side - width, side - height], np.float64) / (2 * side)
    return (pixels.astype(np.float32) / 127.5 - 1.0)[None], padding


def decode(
    raw_boxes: np.ndarray, raw_scores: np.ndarray, anchors: np.ndarray, *, min_score: float = MIN_SCORE
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Model outputs ``(N, 12)`` and ``(N, 1)`` -> scores ``(M,)``, boxes ``(M, 4)`` as normalised
    ``[x_min, y_min, x_max, y_max]`` and keypoints ``(M, 4, 2)`` normalised, for the anchors scoring ``min_score``."""
    raw_boxes = np.asarray(raw_boxes, np.float64).reshape(len(anchors), -1)
    logits = np.clip(np.asarray(raw_scores, np.float64).reshape(len(anchors)), -SCORE_CLIP, SCORE_CLIP)
    scores = 1.0 / (1.0 + np.exp(-logits))
    keep = scores >= min_score
    values, centres = raw_boxes[keep] / INPUT_SIZE, anchors[keep]
    middle = values[:, :2] + centres  # x, y first: the graph's reverse_output_order
    half = values[:, 2:4] / 2
    boxes = np.concatenate([middle - half, middle + half], axis=1)
    keypoints = values[:, 4 : 4 + 2 * NUM_KEYPOINTS].reshape(-1, NUM_KEYPOINTS, 2) + centres[:, None, :]
    return scores[keep], boxes, keypoints


def iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Intersection over union of one ``[x1, y1, x2, y2]`` box with each row of ``others`` (``(N, 4)``)."""
    low, high = np.maximum(box[:2], others[:, :2]), np.minimum(box[2:], others[:, 2:])
    inter = np.prod(np.clip(high - low, 0, None), axis=1)
    area = np.prod(box[2:] - box[:2])
    areas = np.prod(others[:, 2:] - others[:, :2], axis=1)
    union = area + areas - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def weighted_suppression(
    scores: np.ndarray, boxes: np.ndarray, keypoints: np.ndarray, *, threshold: float = SUPPRESSION_IOU
) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """MediaPipe's weighted non-maximum suppression: best first, each detection with every remaining one that
    overlaps it by more than ``threshold`` IoU, replaced by their score-weighted mean box and keypoints (the
    best one's score)."""
    order = list(np.argsort(-scores, kind="stable"))
    merged = []
    while order:
        best = order[0]
        overlap = iou(boxes[best], boxes[order]) > threshold
        overlap[0] = True  # itself, also when its box is empty (IoU 0)
        group = [order[k] for k in np.flatnonzero(overlap)]
        weights = scores[group] / scores[group].sum()
        box = (boxes[group] * weights[:, None]).sum(axis=0)
        points = (keypoints[group] * weights[:, None, None]).sum(axis=0)
        merged.append((float(scores[best]), box, points))
        order = [i for i, o in zip(order, overlap, strict=True) if not o]
    return merged


def remove_letterbox(points: np.ndarray, padding: np.ndarray) -> np.ndarray:
    """Normalised ``(..., 2)`` points on the letterboxed input -> normalised points on the image."""
    left, top, right, bottom = padding
    return (points - np.array([left, top])) / np.array([1.0 - left - right, 1.0 - top - bottom])


def detections_from_outputs(
    raw_boxes: np.ndarray, raw_scores: np.ndarray, padding: np.ndarray, image_size: tuple[int, int], *, min_score: float
) -> list[Detection]:
    """The whole post-processing: decode, suppress, undo the letterbox, scale to ``image_size`` (width, height), drop
    a detection holding NaN, one per body."""
    scores, boxes, keypoints = decode(raw_boxes, raw_scores, ANCHORS, min_score=min_score)
    size = np.array(image_size, np.float64)
    people = []
    for score, box, points in weighted_suppression(scores, boxes, keypoints):
        corners = remove_letterbox(box.reshape(2, 2), padding) * size
        people.append(
            Detection(
                score, np.concatenate([corners[0], corners[1] - corners[0]]), remove_letterbox(points, padding) * size
            )
        )
    return one_per_body([p for p in people if np.isfinite(p.box).all() and np.isfinite(p.keypoints).all()])


def one_per_body(detections: list[Detection], threshold: float = BODY_IOU) -> list[Detection]:
    """Best first, each detection dropped whose body box overlaps a kept one's by more than ``threshold`` IoU.

    MediaPipe's suppression compares face boxes and its graph keeps one person; several people need this too:
    the model can score one body twice, upright and upside down, with face boxes apart."""
    kept: list[Detection] = []
    for detection in sorted(detections, key=lambda d: -d.score):
        corners = xyxy(body_box(detection))
        if all(iou(corners, xyxy(body_box(k))[None])[0] <= threshold for k in kept):
            kept.append(detection)
    return kept


def xyxy(box: np.ndarray) -> np.ndarray:
    return np.concatenate([box[:2], box[:2] + box[2:]])


TILE_OVERLAP = 0.25


def image_tiles(image: np.ndarray, n: int, overlap: float = TILE_OVERLAP) -> list[tuple[tuple[int, int], np.ndarray]]:
    """``n`` x ``n`` tiles overlapping by ``overlap`` of a tile, with their top-left corners in the image."""
    height, width = image.shape[:2]
    tile_w, tile_h = width / (n - (n - 1) * overlap), height / (n - (n - 1) * overlap)
    tiles = []
    for row in range(n):
        for col in range(n):
            x, y = round(col * tile_w * (1 - overlap)), round(row * tile_h * (1 - overlap))
            tiles.append(((x, y), np.ascontiguousarray(image[y : y + round(tile_h), x : x + round(tile_w)])))
    return tiles


def shifted(detection: Detection, x: float, y: float) -> Detection:
    """A tile's detection in the image's pixels."""
    offset = np.array([x, y], np.float64)
    box = detection.box.copy()
    box[:2] += offset
    return Detection(detection.score, box, detection.keypoints + offset)


def merge(detections: list[Detection]) -> list[Detection]:
    """One detection per person from overlapping searches (weighted suppression on the face boxes)."""
    if not detections:
        return []
    scores = np.array([d.score for d in detections])
    corners = np.array([xyxy(d.box) for d in detections])
    keypoints = np.stack([d.keypoints for d in detections])
    merged = weighted_suppression(scores, corners, keypoints)
    people = [Detection(score, np.concatenate([box[:2], box[2:] - box[:2]]), points) for score, box, points in merged]
    return one_per_body(people)


def body_box(detection: Detection, margin: float = CROP_MARGIN) -> np.ndarray:
    """An upright ``[x, y, w, h]`` square around the body: the square around the detector's full-body circle
    (centre: the mid-hip keypoint; radius: its distance to the body keypoint), scaled by ``margin``. With
    ``CROP_MARGIN`` it is the box the pose model is cut from (widened 1.25x by the crop, as in training)."""
    centre = detection.keypoints[HIP]
    half = margin * float(np.linalg.norm(detection.keypoints[BODY] - centre))
    return np.array([centre[0] - half, centre[1] - half, 2 * half, 2 * half])


def lean_deg(detection: Detection) -> float:
    """The body's lean: the angle of the hip -> body keypoint direction from straight up, clockwise on screen."""
    dx, dy = detection.keypoints[BODY] - detection.keypoints[HIP]
    return float(np.degrees(np.arctan2(dx, -dy)))


def crop_turn(detection: Detection, leans: tuple[float, float] = TURNED_LEANS) -> float:
    """The angle to turn the pose model's crop by: the lean when its size is within ``leans`` (exclusive, inclusive),
    else 0. Smaller leans the model takes upright (it trained on turns up to 60 degrees); a lean near 180 degrees
    is more often the body read upside down than a person standing on their head (detector_crops.md)."""
    lean = lean_deg(detection)
    return lean if leans[0] < abs(lean) <= leans[1] else 0.0


def region_of(box: np.ndarray) -> np.ndarray:
    """The detector's region (``REGION_MARGIN``) of a ``CROP_MARGIN`` body box: the same centre, a larger square."""
    centre, half = box[:2] + box[2:] / 2, box[2:] / 2 * (REGION_MARGIN / CROP_MARGIN)
    return np.concatenate([centre - half, 2 * half])


def clip_box(box: np.ndarray, width: int, height: int) -> np.ndarray:
    """The part of ``[x, y, w, h]`` inside a ``width`` x ``height`` image (a person is only seen there)."""
    low = np.clip(box[:2], 0, [width, height])
    high = np.clip(box[:2] + box[2:], 0, [width, height])
    return np.concatenate([low, high - low])


class BlazePoseDetector:
    """MediaPipe's person detector on LiteRT: ``detect(image)`` gives every :class:`Detection`, calling it gives the
    body boxes (a ``PersonDetector``), best first."""

    def __init__(self, path: str | Path = BUNDLED, *, threads: int = 1, min_score: float = 0.5, tiles: int = 1) -> None:
        path = Path(path)
        if not is_file(path):
            fix = "run make detector (it unpacks it from the mediapipe wheel)" if path == BUNDLED else "check the path"
            raise MhpError(f"the person detector {path} is missing; {fix}, or pass --detector none or --boxes FILE")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != SHA256:
            raise MhpError(
                f"{path} is not MediaPipe 0.10.21's pose_detection.tflite (sha256 {digest[:12]}...); "
                "run make detector again"
            )
        litert = require("ai_edge_litert.interpreter")
        self.interpreter = litert.Interpreter(model_path=str(path), num_threads=threads)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]["index"]
        outputs = {d["shape"][-1]: d["index"] for d in self.interpreter.get_output_details()}
        self.boxes_out, self.scores_out = outputs[4 + 2 * NUM_KEYPOINTS], outputs[1]
        self.min_score, self.tiles = min_score, tiles

    def detect(self, image: np.ndarray) -> list[Detection]:
        """RGB uint8 ``(H, W, 3)`` -> the people found, best first: in the whole image and, with ``tiles`` > 1, in
        ``tiles`` x ``tiles`` overlapping tiles too (small people), merged by weighted suppression."""
        found = self.detect_whole(image)
        if self.tiles == 1:
            return found
        for (x, y), tile in image_tiles(image, self.tiles):
            found += [shifted(d, x, y) for d in self.detect_whole(tile)]
        return merge(found)

    def detect_whole(self, image: np.ndarray) -> list[Detection]:
        tensor, padding = letterbox(image)
        self.interpreter.set_tensor(self.input, tensor)
        self.interpreter.invoke()
        raw_boxes = self.interpreter.get_tensor(self.boxes_out)[0]
        raw_scores = self.interpreter.get_tensor(self.scores_out)[0]
        size = (image.shape[1], image.shape[0])
        return detections_from_outputs(raw_boxes, raw_scores, padding, size, min_score=self.min_score)

    def __call__(self, image: np.ndarray) -> list[np.ndarray]:
        return [body_box(detection) for detection in self.detect(image)]
