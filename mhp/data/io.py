"""Reading dataset files with errors that name the file, the place and the fix."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from mhp.errors import MhpError

INT32_MAX, INT64_MAX = 2**31 - 1, 2**63 - 1


class DatasetError(MhpError):
    """A dataset folder or file is missing, unreadable or not in the expected format."""


def require_file(path: Path, what: str) -> Path:
    if not path.is_file():
        raise DatasetError(f"{what} not found: expected {path}; check ROOT of --data NAME=ROOT and its layout")
    return path


def require_dir(path: Path, what: str) -> Path:
    if not path.is_dir():
        raise DatasetError(
            f"{what} not found: expected the folder {path}; check ROOT of --data NAME=ROOT and its layout"
        )
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
    except ValueError:  # json refuses integers of more than 4300 digits
        raise DatasetError(f"{path}: holds a number too long to be one; re-download or regenerate it") from None
    except RecursionError:
        raise DatasetError(
            f"{path}: nested too deeply to be an annotation file; re-download or regenerate it"
        ) from None


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
    except (TypeError, ValueError, OverflowError):
        found = len(value) if isinstance(value, list | tuple) else type(value).__name__
        raise DatasetError(f"{where} should hold {shape} numbers, found {found}") from None


def integer(value: Any, where: str, low: int = -INT64_MAX - 1, high: int = INT64_MAX) -> int:
    """``value`` as a whole number in ``low..high`` (3.0 counts), or a DatasetError naming the place."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or not low <= value <= high:
        raise DatasetError(f"{where} should be a whole number in {low}..{high}, found {shown(value)}")
    return int(value)


def number(value: Any, where: str) -> float:
    """``value`` as a finite float, or a DatasetError naming the place."""
    try:
        finite = not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)
    except OverflowError:  # an integer beyond the float range
        finite = False
    if not finite:
        raise DatasetError(f"{where} should be a finite number, found {shown(value)}")
    return float(value)


def file_name(value: Any, where: str) -> str:
    """An image path of an annotation: non-empty UTF-8 text on one line without NUL bytes, or a DatasetError."""
    if not isinstance(value, str) or not value or any(c in value for c in "\x00\n\r"):
        raise DatasetError(f"{where} should be a file name, found {shown(value)}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise DatasetError(f"{where} is not valid UTF-8 text: {shown(value)}") from None
    return value


def shown(value: Any, limit: int = 60) -> str:
    """A short one-line ``repr`` of a value read from a file, for error messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def entries(content: Any, key: str, path: Path) -> list[dict]:
    """The list ``content[key]`` of a COCO-style file."""
    items = field(content, key, str(path))
    if not isinstance(items, list):
        raise DatasetError(f"{path}: {key!r} should be a list, found {type(items).__name__}")
    return items


def images_by_id(content: Any, path: Path) -> dict[int, dict]:
    """The ``images`` of a COCO-style file keyed by ``id``."""
    return {
        integer(field(img, "id", f"{path}: images[{i}]"), f"{path}: images[{i}] id"): img
        for i, img in enumerate(entries(content, "images", path))
    }


def image_of(annotation: Any, images: dict[int, dict], where: str) -> tuple[int, dict]:
    """(image_id, image entry) of a COCO-style annotation."""
    image_id = integer(field(annotation, "image_id", where), f"{where} image_id")
    if image_id not in images:
        raise DatasetError(f"{where} refers to image_id {image_id}, which is not in 'images'")
    return image_id, images[image_id]


def image_size(img: Any, where: str) -> tuple[int, int]:
    """(width, height) of an ``images`` entry: whole numbers of pixels, at least 1."""
    width, height = (integer(field(img, k, where), f"{where} {k}", 1, INT32_MAX) for k in ("width", "height"))
    return width, height
