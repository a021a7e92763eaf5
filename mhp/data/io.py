"""Reading dataset files with errors that name the file, the place and the fix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from mhp.errors import MhpError

REDUCED_FLAGS = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4}


class DatasetError(MhpError):
    """A dataset folder or file is missing, unreadable or not in the expected format."""


def require_file(path: Path, what: str) -> Path:
    if not path.is_file():
        raise DatasetError(f"{what} not found: expected {path}; check --root and the dataset layout")
    return path


def require_dir(path: Path, what: str) -> Path:
    if not path.is_dir():
        raise DatasetError(f"{what} not found: expected the folder {path}; check --root and the dataset layout")
    return path


def read_json(path: Path, what: str) -> Any:
    """Parse a JSON file; invalid JSON is reported with its line and column."""
    require_file(path, what)
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as exc:
        raise DatasetError(
            f"{path}: invalid JSON at line {exc.lineno} column {exc.colno} ({exc.msg}); re-download or regenerate it"
        ) from None
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 text (byte {exc.start}); is it really a JSON file?") from None


def field(entry: Any, key: str, where: str) -> Any:
    """``entry[key]`` or a DatasetError naming the entry, e.g. ``train.json: annotations[3] has no 'bbox'``."""
    if not isinstance(entry, dict):
        raise DatasetError(f"{where} is {type(entry).__name__}, expected an object")
    if key not in entry:
        raise DatasetError(f"{where} has no {key!r}; the file is not in the expected format")
    return entry[key]


def array(value: Any, shape: tuple[int, ...], where: str) -> np.ndarray:
    """``value`` as a float64 array of ``shape`` (-1 allowed), or a DatasetError naming the place."""
    try:
        out = np.asarray(value, dtype=np.float64)
        return out.reshape(shape)
    except (TypeError, ValueError):
        size = np.size(value) if isinstance(value, list | tuple) else type(value).__name__
        raise DatasetError(f"{where} should hold {shape} numbers, found {size}") from None


def entries(content: Any, key: str, path: Path) -> list[dict]:
    """The list ``content[key]`` of a COCO-style file."""
    items = field(content, key, str(path))
    if not isinstance(items, list):
        raise DatasetError(f"{path}: {key!r} should be a list, found {type(items).__name__}")
    return items


def images_by_id(content: Any, path: Path) -> dict[int, dict]:
    """The ``images`` of a COCO-style file keyed by ``id``."""
    return {
        int(field(img, "id", f"{path}: images[{i}]")): img for i, img in enumerate(entries(content, "images", path))
    }


def image_of(annotation: Any, images: dict[int, dict], where: str) -> tuple[int, dict]:
    """(image_id, image entry) of a COCO-style annotation."""
    image_id = int(field(annotation, "image_id", where))
    if image_id not in images:
        raise DatasetError(f"{where} refers to image_id {image_id}, which is not in 'images'")
    return image_id, images[image_id]


def read_image(path: str | Path, reduce: int = 1) -> np.ndarray | None:
    """Decode an image as BGR uint8, optionally at 1/2 or 1/4 scale (JPEG DCT scaling); None if unreadable."""
    flags = REDUCED_FLAGS[reduce] | cv2.IMREAD_IGNORE_ORIENTATION
    try:
        return cv2.imread(str(path), flags)
    except cv2.error:
        return None
