"""ONNX Runtime runner (CPU execution provider)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mhp.runtime.base import Runner, check_pixels, check_tensor, missing_tensor
from mhp.runtime.manifest import ExportManifest, read_manifest
from mhp.util.optional import require


class OnnxRunner(Runner):
    def __init__(self, path: str | Path, *, threads: int = 1, manifest: ExportManifest | None = None) -> None:
        ort = require("onnxruntime")
        self.manifest = manifest or read_manifest(path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        self.input_size = self.manifest.geometry["input_size"]
        self.name = f"onnxruntime {Path(path).name}"
        self.check_contract(Path(path).name)

    def check_contract(self, artifact: str) -> None:
        tensors = {t.name: t for t in [*self.session.get_inputs(), *self.session.get_outputs()]}
        for what, spec in [("input", self.manifest.input), *(("output", o) for o in self.manifest.outputs)]:
            tensor = tensors.get(spec["name"])
            if tensor is None:
                raise missing_tensor(artifact, what, spec["name"], tensors)
            dtype = tensor.type.removeprefix("tensor(").removesuffix(")").replace("float", "float32")
            check_tensor(artifact, f"{what} {spec['name']!r}", spec["shape"], tensor.shape, spec["dtype"], dtype)

    def raw(self, pixels: np.ndarray) -> dict[str, np.ndarray]:
        pixels = check_pixels(pixels, self.input_size)
        names = self.manifest.output_names
        outputs = self.session.run(names, {self.input_name: pixels})
        return dict(zip(names, outputs, strict=True))

    def run_one(self, pixels: np.ndarray) -> dict[str, np.ndarray]:
        return self.raw(pixels)
