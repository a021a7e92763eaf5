"""Person detectors are pluggable: any callable ``image -> [x, y, w, h] boxes``, or any ONNX / TFLite detector
described by a small JSON file declaring its input and output format. The bundled one, MediaPipe's BlazePose
detector, is in ``mhp.infer.blazepose``.

Declared formats (boxes after non-maximum suppression, one row per box, any leading batch axis of 1):
``xyxy_score`` (x1, y1, x2, y2, score) and ``xyxy_score_class`` (..., class id); coordinates in the
detector's input pixels or ``normalized`` to [0, 1]. The image is resized (stretched) to the input size.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from mhp.errors import MhpError
from mhp.geometry import finite_number
from mhp.util.fileio import is_file, read_json_file
from mhp.util.optional import require

OUTPUT_FORMATS = {"xyxy_score": 5, "xyxy_score_class": 6}
MAX_INPUT_SIDE = 8192


class PersonDetector(Protocol):
    def __call__(self, image: np.ndarray) -> list[np.ndarray]:
        """RGB uint8 ``(H, W, 3)`` -> person boxes ``[x, y, w, h]`` in image pixels, best first."""


@dataclass(frozen=True)
class DetectorSpec:
    model: str  # .onnx or .tflite, relative to the JSON file
    input_size: tuple[int, int]  # (width, height)
    output: str = "xyxy_score_class"
    coordinates: str = "pixels"  # or "normalized"
    layout: str = "NCHW"  # or "NHWC"
    input_scale: float = 1.0 / 255.0  # pixels (0-255) are multiplied by this
    person_class: int = 0
    score_threshold: float = 0.5
    max_people: int = 10


def read_detector_spec(path: str | Path) -> DetectorSpec:
    content = read_json_file(Path(path), fix="see mhp/infer/detector.py for the fields")
    names = {f.name for f in fields(DetectorSpec)}
    if not isinstance(content, dict) or not {"model", "input_size"} <= set(content) or set(content) - names:
        raise MhpError(f"{path}: a detector file needs model and input_size, and may set {', '.join(sorted(names))}")
    size = content["input_size"]
    if not (isinstance(size, list) and len(size) == 2 and all(_whole(v, 1, MAX_INPUT_SIDE) for v in size)):
        raise MhpError(f"{path}: input_size must be [width, height] in pixels (1..{MAX_INPUT_SIDE}), got {size!r}")
    spec = DetectorSpec(**{**content, "input_size": tuple(size)})
    if not isinstance(spec.model, str) or not spec.model.isprintable() or not spec.model:
        raise MhpError(f"{path}: model must be the file name of the .onnx or .tflite detector, got {spec.model!r}")
    if spec.output not in tuple(OUTPUT_FORMATS) or spec.coordinates not in ("pixels", "normalized"):
        raise MhpError(f"{path}: output must be one of {', '.join(OUTPUT_FORMATS)}, coordinates pixels or normalized")
    if spec.layout not in ("NCHW", "NHWC"):
        raise MhpError(f"{path}: layout must be NCHW or NHWC, got {spec.layout!r}")
    numbers = {"input_scale": finite_number(spec.input_scale) and spec.input_scale > 0}
    numbers["score_threshold"] = finite_number(spec.score_threshold) and 0 <= spec.score_threshold <= 1
    numbers["person_class"], numbers["max_people"] = _whole(spec.person_class, 0), _whole(spec.max_people, 1)
    wrong = [k for k, ok in numbers.items() if not ok]
    if wrong:
        raise MhpError(
            f"{path}: {wrong[0]} is {getattr(spec, wrong[0])!r}; input_scale must be > 0, score_threshold in 0..1, "
            "person_class a whole number >= 0, max_people >= 1"
        )
    model = Path(path).parent / spec.model
    if not is_file(model):
        raise MhpError(f"{path}: the detector model {model} does not exist")
    return DetectorSpec(**{**spec.__dict__, "model": str(model)})


def _whole(value: object, low: int, high: int = 2**31 - 1) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


class ModelDetector:
    """Runs a declared ONNX (onnxruntime) or TFLite (LiteRT) detector."""

    def __init__(self, spec: DetectorSpec, threads: int = 1) -> None:
        self.spec = spec
        if spec.model.endswith(".onnx"):
            ort = require("onnxruntime")
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            try:
                session = ort.InferenceSession(spec.model, options, providers=["CPUExecutionProvider"])
            except Exception as exc:  # onnxruntime's load errors share no base class
                raise MhpError(f"detector {spec.model} does not load ({str(exc).splitlines()[0][:200]})") from None
            name = session.get_inputs()[0].name
            self.run = lambda x: session.run(None, {name: x})[0]
        elif spec.model.endswith(".tflite"):
            litert = require("ai_edge_litert.interpreter")
            try:
                interpreter = litert.Interpreter(model_path=spec.model, num_threads=threads)
                interpreter.allocate_tensors()
            except (RuntimeError, ValueError) as exc:
                raise MhpError(f"detector {spec.model} does not load ({exc})") from None
            tensor_in, tensor_out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]

            def run(x: np.ndarray) -> np.ndarray:
                interpreter.set_tensor(tensor_in["index"], x.astype(tensor_in["dtype"]))
                interpreter.invoke()
                return interpreter.get_tensor(tensor_out["index"])

            self.run = run
        else:
            raise MhpError(f"detector {spec.model} is neither .onnx nor .tflite")

    def __call__(self, image: np.ndarray) -> list[np.ndarray]:
        spec = self.spec
        width, height = spec.input_size
        resized = cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR).astype(np.float32)
        batch = (resized * spec.input_scale)[None]
        rows = np.asarray(self.run(batch.transpose(0, 3, 1, 2) if spec.layout == "NCHW" else batch), np.float64)
        return boxes_from_rows(rows, spec, image.shape[1], image.shape[0])


def boxes_from_rows(rows: np.ndarray, spec: DetectorSpec, image_width: int, image_height: int) -> list[np.ndarray]:
    """Declared detector rows -> person boxes ``[x, y, w, h]`` in image pixels, best first."""
    columns = OUTPUT_FORMATS[spec.output]
    rows = rows.reshape(-1, rows.shape[-1]) if rows.size else np.zeros((0, columns))
    if rows.shape[-1] != columns:
        raise MhpError(f"detector output rows have {rows.shape[-1]} values, {spec.output} declares {columns}")
    keep = rows[:, 4] >= spec.score_threshold
    if spec.output == "xyxy_score_class":
        keep &= rows[:, 5].round() == spec.person_class
    rows = rows[keep][np.argsort(-rows[keep, 4])][: spec.max_people]
    scale = np.array([image_width, image_height] * 2, np.float64)
    if spec.coordinates == "pixels":
        scale /= np.array(list(spec.input_size) * 2, np.float64)
    corners = rows[:, :4] * scale
    return [np.array([x1, y1, x2 - x1, y2 - y1]) for x1, y1, x2, y2 in corners if x2 > x1 and y2 > y1]
