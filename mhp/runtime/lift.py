"""Lift runners: normalised 2D keypoints in, ``(N, J, 3)`` root-relative mm out, whatever the format.

The image :class:`~mhp.runtime.base.Runner` takes crops; a lifter (manifest ``task: lift``) takes the output of
:meth:`LiftingModel.normalize` instead, so it has its own small interface. ONNX runs whole batches; LiteRT and
CoreML run one pose per call (batch 1, as an app does).
"""

from __future__ import annotations

import platform
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np

from mhp.errors import MhpError
from mhp.runtime.base import RuntimeUnavailableError, check_tensor, missing_tensor
from mhp.runtime.manifest import ExportManifest, read_manifest
from mhp.util.optional import require


class LiftRunner(ABC):
    """``runner(uv)``: ``(N, J, 2)`` normalised 2D joints -> ``(N, J, 3)`` float32 root-relative mm."""

    name: str
    num_joints: int

    def __call__(self, uv: np.ndarray) -> np.ndarray:
        uv = check_keypoints(uv, self.num_joints)
        return np.concatenate([self.run_one(uv[i : i + 1]) for i in range(len(uv))])

    def example_input(self) -> np.ndarray:
        """One pose of the right shape (the root at the origin and every joint on it) for timing and memory."""
        return np.zeros((1, self.num_joints, 2), np.float32)

    @abstractmethod
    def run_one(self, uv: np.ndarray) -> np.ndarray:
        """One ``(1, J, 2)`` float32 pose -> ``(1, J, 3)`` float32 mm."""


def check_keypoints(uv: np.ndarray, num_joints: int) -> np.ndarray:
    """``(N, J, 2)`` finite float32, or a one-line error naming what is wrong."""
    uv = np.asarray(uv)
    if uv.ndim != 3 or uv.shape[1:] != (num_joints, 2) or len(uv) == 0:
        raise MhpError(f"a lifter takes normalised 2D joints (N, {num_joints}, 2), got {uv.shape}")
    uv = uv.astype(np.float32, copy=False)
    if not np.isfinite(uv).all():
        raise MhpError("2D joints must be finite (normalise them with the manifest's formula first)")
    return uv


def normalize_keypoints(points: np.ndarray, root: int, head: int, c: float) -> np.ndarray:
    """``(N, J, 2)`` 2D joints -> a lifter's input, the manifest formula ``(p - p[root]) / (c |p[head] - p[root]|)``
    in numpy (poses whose head lies on the root must be refused before)."""
    points = np.asarray(points, np.float64)
    centred = points - points[:, root : root + 1]
    scale = c * np.linalg.norm(centred[:, head], axis=-1)
    return (centred / scale[:, None, None]).astype(np.float32)


def manifest_joints(manifest: ExportManifest) -> int:
    return len(manifest.joints["names"])


class OnnxLiftRunner(LiftRunner):
    """ONNX Runtime (CPU execution provider); the artifact has a dynamic batch axis."""

    def __init__(self, path: str | Path, *, threads: int = 1, manifest: ExportManifest | None = None) -> None:
        ort = require("onnxruntime")
        self.manifest = manifest or read_manifest(path)
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.num_joints = manifest_joints(self.manifest)
        self.name = f"onnxruntime {Path(path).name}"
        tensors = {t.name: t for t in [*self.session.get_inputs(), *self.session.get_outputs()]}
        for what, spec in [("input", self.manifest.input), *(("output", o) for o in self.manifest.outputs)]:
            tensor = tensors.get(spec["name"])
            if tensor is None:
                raise missing_tensor(Path(path).name, what, spec["name"], tensors)
            dtype = tensor.type.removeprefix("tensor(").removesuffix(")").replace("float", "float32")
            check_tensor(Path(path).name, f"{what} {spec['name']!r}", spec["shape"], tensor.shape, spec["dtype"], dtype)

    def __call__(self, uv: np.ndarray) -> np.ndarray:
        uv = check_keypoints(uv, self.num_joints)
        return self.session.run([self.manifest.outputs[0]["name"]], {self.manifest.input["name"]: uv})[0]

    def run_one(self, uv: np.ndarray) -> np.ndarray:
        return self(uv)


class TfliteLiftRunner(LiftRunner):
    """LiteRT with XNNPACK on ``threads`` threads; float32 input and output at every precision."""

    def __init__(self, path: str | Path, *, threads: int = 1, manifest: ExportManifest | None = None) -> None:
        interpreter = require("ai_edge_litert.interpreter")
        self.manifest = manifest or read_manifest(path)
        self.interpreter = interpreter.Interpreter(model_path=str(path), num_threads=threads)
        self.interpreter.allocate_tensors()
        self.signature = self.interpreter.get_signature_runner()
        self.num_joints = manifest_joints(self.manifest)
        self.name = f"litert {Path(path).name}"
        artifact = Path(path).name
        tensors = {**self.signature.get_input_details(), **self.signature.get_output_details()}
        for what, spec in [("input", self.manifest.input), *(("output", o) for o in self.manifest.outputs)]:
            actual = tensors.get(spec["name"])
            if actual is None:
                raise missing_tensor(artifact, what, spec["name"], tensors)
            shape, dtype = list(actual["shape"]), np.dtype(actual["dtype"]).name
            check_tensor(artifact, f"{what} {spec['name']!r}", spec["shape"], shape, spec["dtype"], dtype)
        self.input_name, self.output_name = self.manifest.input["name"], self.manifest.outputs[0]["name"]

    def run_one(self, uv: np.ndarray) -> np.ndarray:
        return self.signature(**{self.input_name: uv})[self.output_name]


class CoremlLiftRunner(LiftRunner):
    """CoreML: prediction needs macOS (coremltools converts anywhere but predicts only there)."""

    def __init__(self, path: str | Path, *, manifest: ExportManifest | None = None) -> None:
        self.manifest = manifest or read_manifest(path)
        self.num_joints = manifest_joints(self.manifest)
        self.name = f"coreml {Path(path).name}"
        if platform.system() != "Darwin":
            raise RuntimeUnavailableError(
                "CoreML prediction needs macOS; this artifact was converted but cannot run here"
            )
        self.model = require("coremltools").models.MLModel(str(path))

    def run_one(self, uv: np.ndarray) -> np.ndarray:
        outputs = self.model.predict({self.manifest.input["name"]: uv})
        return np.asarray(outputs[self.manifest.outputs[0]["name"]], np.float32).reshape(1, self.num_joints, 3)


def load_lift_runner(path: Path, manifest: ExportManifest, *, threads: int = 1) -> LiftRunner:
    """The lift runner of an exported lifter artifact (``manifest.task == "lift"``)."""
    if manifest.format == "onnx":
        return OnnxLiftRunner(path, threads=threads, manifest=manifest)
    if manifest.format == "tflite":
        return TfliteLiftRunner(path, threads=threads, manifest=manifest)
    if manifest.format == "coreml":
        return CoremlLiftRunner(path, manifest=manifest)
    raise MhpError(f"{path}: manifest format {manifest.format!r} is not onnx, tflite or coreml; re-export it")
