"""Person boxes ``[x, y, w, h]`` in image pixels: given, centred, or tracked from the previous frame's joints."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from mhp.errors import MhpError
from mhp.geometry import is_box
from mhp.util.fileio import read_json_file

CENTRED_FRACTION = 0.8  # with the model's 1.25 crop expansion the crop is exactly the centred square
JOINT_BOX_MARGIN = 1.2  # joints stop short of the head top and the soles: widen their hull to a person box
MIN_TRACK_CONFIDENCE = 0.05  # mean per-joint peak probability below which the track is lost


def centred_box(width: int, height: int) -> np.ndarray:
    """The first guess for one person filling the frame: a centred square."""
    side = CENTRED_FRACTION * min(width, height)
    return np.array([(width - side) / 2.0, (height - side) / 2.0, side, side])


def box_from_joints(joints_img: np.ndarray, margin: float = JOINT_BOX_MARGIN) -> np.ndarray:
    """The hull of ``(J, 2)`` joints, widened by ``margin`` about its centre (BlazePose-style tracking)."""
    low, high = joints_img.min(axis=0), joints_img.max(axis=0)
    centre, size = (low + high) / 2.0, np.maximum(high - low, 1.0) * margin
    return np.array([centre[0] - size[0] / 2, centre[1] - size[1] / 2, size[0], size[1]])


def check_box(box, width: int, height: int) -> np.ndarray:
    """``box`` as a float array, or a one-line error when it is malformed, empty or outside the image."""
    try:
        box = np.asarray(box, dtype=np.float64).reshape(4)
    except (TypeError, ValueError, OverflowError):
        raise MhpError(f"box {box!r} is not [x, y, w, h] in pixels") from None
    x, y, w, h = box
    if not all(math.isfinite(v) for v in box):
        raise MhpError(f"box {box.tolist()} holds NaN or infinity; boxes are [x, y, width, height] in pixels")
    if w < 0 or h < 0:
        raise MhpError(f"box {box.tolist()} has a negative size; boxes are [x, y, width, height] in pixels")
    if w == 0 or h == 0:
        raise MhpError(f"box {box.tolist()} has zero area; boxes are [x, y, width, height] in pixels")
    if x >= width or y >= height or x + w <= 0 or y + h <= 0:
        raise MhpError(f"box {box.tolist()} lies entirely outside the {width}x{height} image")
    return box


class BoxTracker:
    """One person through a video: a centred box first, then the box of the previous frame's joints; back to
    the centred box when the pose confidence drops below ``min_confidence``."""

    def __init__(self, width: int, height: int, min_confidence: float = MIN_TRACK_CONFIDENCE) -> None:
        self.width, self.height, self.min_confidence = width, height, min_confidence
        self.box = centred_box(width, height)
        self.resets = 0

    def update(self, joints_img: np.ndarray, confidence: np.ndarray) -> bool:
        """Move the box to this frame's joints; returns True when the track was lost and re-initialised."""
        box = box_from_joints(joints_img)
        inside = box[0] < self.width and box[1] < self.height and box[0] + box[2] > 0 and box[1] + box[3] > 0
        if float(np.mean(confidence)) < self.min_confidence or not inside:
            self.box = centred_box(self.width, self.height)
            self.resets += 1
            return True
        self.box = box
        return False


def read_boxes(path: str | Path) -> dict[str, list[list[float]]]:
    """Boxes from JSON: ``[[x, y, w, h], ...]`` for every image/frame, or ``{"name or frame index": [[...], ...]}``."""
    content = read_json_file(Path(path), fix='expected [[x, y, w, h], ...] or {"image.jpg": [[x, y, w, h]]}')
    table = {"*": content} if isinstance(content, list) else content
    if not isinstance(table, dict):
        raise MhpError(f'{path}: expected [[x, y, w, h], ...] or {{"image.jpg": [[x, y, w, h]]}}')
    for key, boxes in table.items():
        if not (isinstance(boxes, list) and all(is_box(b) for b in boxes)):
            raise MhpError(f"{path}: the boxes of {key!r} are not a list of [x, y, w, h] in pixels")
    return table


def boxes_for(table: dict[str, list[list[float]]] | None, key: str) -> list[list[float]] | None:
    """The boxes given for an image name or frame index (``*``: for all), None when none were given."""
    if table is None:
        return None
    return table.get(key, table.get("*"))


def check_box_keys(table: dict[str, list[list[float]]], inputs: list[str], source: str, *, frames: bool) -> None:
    """Refuse boxes given for no input: ``inputs`` are the image names, or the frame indices of a video."""
    known = set(inputs)
    unmatched = sorted(key for key in table if key != "*" and key not in known)
    if not unmatched:
        return
    named = ", ".join(repr(k) for k in unmatched[:5]) + (
        f" and {len(unmatched) - 5} more" if len(unmatched) > 5 else ""
    )
    if frames:
        span = f"frames 0-{len(inputs) - 1}" if inputs else "no frames"
        raise MhpError(
            f"{source}: boxes given for {named}, which is no frame of the video ({span}); key boxes by frame index"
        )
    shown = ", ".join(inputs[:5]) + (f" and {len(inputs) - 5} more" if len(inputs) > 5 else "")
    raise MhpError(f"{source}: boxes given for {named}, which matches no input ({shown}); key boxes by image file name")
