"""Fuzzed box files (mhp-infer --boxes, the calibration boxes.json) and detector declarations."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mhp.export.calibration import read_boxes as read_calibration_boxes
from mhp.infer.boxes import boxes_for, check_box, read_boxes
from mhp.infer.detector import OUTPUT_FORMATS, DetectorSpec, read_detector_spec
from tests.fuzz.harness import JSON_VALUES, FileSwap, fast_folder, json_variants, outcome

WIDTH, HEIGHT = 640, 480


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return fast_folder(tmp_path_factory, "fuzz-boxes")


def write(path: Path, content) -> Path:
    path.write_text(json.dumps(content))
    return path


def four_numbers(box) -> bool:
    return len(box) == 4 and all(type(v) in (int, float) and math.isfinite(v) for v in box)


def check_table(table) -> None:
    assert isinstance(table, dict)
    for key, boxes in table.items():
        assert isinstance(key, str)
        assert all(four_numbers(b) for b in boxes)
        assert boxes_for(table, key) == boxes
        for box in boxes:  # every read box either fits the image or is refused in one line
            outcome("check_box on read boxes", lambda b=box: check_box(b, WIDTH, HEIGHT), check_checked_box)


def check_checked_box(box: np.ndarray) -> None:
    assert box.shape == (4,)
    assert np.isfinite(box).all()
    assert (box[2:] > 0).all()
    assert box[0] < WIDTH
    assert box[1] < HEIGHT
    assert box[0] + box[2] > 0
    assert box[1] + box[3] > 0


@pytest.mark.parametrize(
    "valid", [{"frame.jpg": [[10, 20, 100, 200]], "3": [[0.5, 1.5, 50, 60], [100, 100, 20, 30]]}, [[1, 2, 30, 40]]]
)
def test_read_boxes(folder, valid):
    path = write(folder / "boxes.json", valid)
    with FileSwap(path) as swap:

        @given(json_variants(valid))
        def run(data: bytes) -> None:
            swap.put(data)
            outcome("mhp-infer --boxes", lambda: read_boxes(path), check_table)

        run()


BOXES = st.lists(st.integers(-100, 700) | st.floats(-1e3, 1e3) | st.floats(), min_size=4, max_size=4)


@given(BOXES | BOXES.map(tuple) | JSON_VALUES, st.integers(-5, 5000), st.integers(-5, 5000))
def test_check_box(box, width, height):
    def checked(result: np.ndarray) -> None:
        assert result.shape == (4,)
        assert np.isfinite(result).all()
        assert (result[2:] > 0).all()
        assert result[0] < width
        assert result[1] < height

    outcome("check_box", lambda: check_box(box, width, height), checked)


def test_calibration_boxes(folder):
    valid = {"a.jpg": [0, 0, 64, 128], "b.png": [10.5, 3, 40, 40]}
    (folder / "calib").mkdir()
    path = write(folder / "calib" / "boxes.json", valid)

    def checked(boxes) -> None:
        assert isinstance(boxes, dict)
        assert all(isinstance(k, str) and four_numbers(b) for k, b in boxes.items())

    with FileSwap(path) as swap:

        @given(json_variants(valid))
        def run(data: bytes) -> None:
            swap.put(data)
            outcome("calibration boxes.json", lambda: read_calibration_boxes(path), checked)

        run()


def test_detector_spec(folder):
    (folder / "det.onnx").write_bytes(b"not read here")
    valid = {"model": "det.onnx", "input_size": [320, 320], "output": "xyxy_score", "score_threshold": 0.4}
    path = write(folder / "detector.json", valid)

    def checked(spec: DetectorSpec) -> None:
        assert Path(spec.model).is_file()
        assert len(spec.input_size) == 2
        assert all(type(v) is int and v >= 1 for v in spec.input_size)
        assert spec.output in OUTPUT_FORMATS
        assert spec.coordinates in ("pixels", "normalized")
        assert spec.layout in ("NCHW", "NHWC")
        assert math.isfinite(spec.input_scale)
        assert spec.input_scale > 0
        assert 0 <= spec.score_threshold <= 1
        assert type(spec.person_class) is int
        assert type(spec.max_people) is int
        assert spec.max_people >= 1

    with FileSwap(path) as swap:

        @given(json_variants(valid))
        def run(data: bytes) -> None:
            swap.put(data)
            outcome("detector JSON", lambda: read_detector_spec(path), checked)

        run()
