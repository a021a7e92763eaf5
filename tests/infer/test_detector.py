"""Declared person detectors: rows to boxes, the JSON declaration, and a real ONNX detector run."""

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from mhp.errors import MhpError
from mhp.infer.detector import DetectorSpec, ModelDetector, boxes_from_rows, read_detector_spec

ROWS = np.array(
    [
        [[8, 16, 40, 56, 0.7, 0], [0, 0, 10, 10, 0.2, 0], [4, 4, 20, 20, 0.9, 0], [1, 1, 30, 30, 0.95, 2]],
    ],
    np.float64,
)


def test_rows_become_person_boxes_best_first():
    spec = DetectorSpec(model="d.onnx", input_size=(64, 64))
    boxes = boxes_from_rows(ROWS, spec, image_width=256, image_height=128)  # 4x wider, 2x taller than the input
    np.testing.assert_allclose(boxes, [[16, 8, 64, 32], [32, 32, 128, 80]])  # class 2 and score 0.2 dropped
    normalized = DetectorSpec(model="d.onnx", input_size=(64, 64), output="xyxy_score", coordinates="normalized")
    np.testing.assert_allclose(boxes_from_rows(np.array([[0.5, 0.25, 1.0, 0.75, 0.8]]), normalized, 200, 100),
                               [[100, 25, 100, 50]])  # fmt: skip
    assert boxes_from_rows(np.zeros((1, 0, 6)), spec, 10, 10) == []
    with pytest.raises(MhpError, match="rows have 5 values, xyxy_score_class declares 6"):
        boxes_from_rows(np.zeros((2, 5)), spec, 10, 10)


def test_declaration_errors(tmp_path):
    spec = tmp_path / "detector.json"
    spec.write_text(json.dumps({"model": "none.onnx", "input_size": [64, 64]}))
    with pytest.raises(MhpError, match=r"none\.onnx does not exist"):
        read_detector_spec(spec)
    spec.write_text(json.dumps({"model": "d.onnx"}))
    with pytest.raises(MhpError, match="needs model and input_size"):
        read_detector_spec(spec)
    (tmp_path / "d.onnx").write_bytes(b"not a model")
    spec.write_text(json.dumps({"model": "d.onnx", "input_size": [64, 64]}))
    with pytest.raises(MhpError, match="does not load"):
        ModelDetector(read_detector_spec(spec))
    spec.write_text(json.dumps({"model": "d.onnx", "input_size": 64}))
    with pytest.raises(MhpError, match=r"input_size must be \[width, height\]"):
        read_detector_spec(spec)
    spec.write_text(json.dumps({"model": "d.onnx", "input_size": [64, 64], "output": "yolo"}))
    with pytest.raises(MhpError, match="output must be one of"):
        read_detector_spec(spec)


def write_constant_detector(folder: Path, rows: np.ndarray = ROWS) -> Path:
    """An ONNX "detector" that always returns ``rows`` (input 64x64 NCHW), and its declaration."""
    constant = helper.make_tensor("rows", TensorProto.FLOAT, rows.shape, rows.astype(np.float32).ravel())
    graph = helper.make_graph(
        [
            helper.make_node("ReduceSum", ["image"], ["total"], keepdims=0),
            helper.make_node("Constant", [], ["constant"], value=constant),
            helper.make_node("Mul", ["total", "zero"], ["nothing"]),
            helper.make_node("Add", ["constant", "nothing"], ["boxes"]),
        ],
        "detector",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 64, 64])],
        [helper.make_tensor_value_info("boxes", TensorProto.FLOAT, list(rows.shape))],
        initializer=[helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, folder / "det.onnx")
    declaration = folder / "det.json"
    declaration.write_text(json.dumps({"model": "det.onnx", "input_size": [64, 64], "max_people": 1}))
    return declaration


def test_an_onnx_detector_runs_through_its_declaration(tmp_path):
    detector = ModelDetector(read_detector_spec(write_constant_detector(tmp_path)))
    boxes = detector(np.zeros((128, 256, 3), np.uint8))
    np.testing.assert_allclose(boxes, [[16, 8, 64, 32]])
