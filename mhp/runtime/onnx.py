"""ONNX Runtime runner (CPU execution provider); INT8 heatmap artifacts are decoded on the host."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mhp.errors import MhpError
from mhp.runtime.base import Runner, check_pixels, check_tensor, missing_tensor
from mhp.runtime.decode import soft_argmax_nhwc
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
        self.quantisation = (1.0, 0)
        if self.manifest.decode == "host_soft_argmax":
            recorded = self.manifest.outputs[0].get("quantization") or {}
            if not {"scale", "zero_point"} <= set(recorded):
                raise MhpError(
                    f"{Path(path).name}: its manifest has no scale and zero point for the heatmaps; re-export with "
                    "mhp-export"
                )
            self.quantisation = (float(recorded["scale"]), int(recorded["zero_point"]))

    def check_contract(self, artifact: str) -> None:
        tensors = {t.name: t for t in [*self.session.get_inputs(), *self.session.get_outputs()]}
        for what, spec in [("input", self.manifest.input), *(("output", o) for o in self.manifest.outputs)]:
            tensor = tensors.get(spec["name"])
            if tensor is None:
                raise missing_tensor(artifact, what, spec["name"], tensors)
            dtype = tensor.type.removeprefix("tensor(").removesuffix(")").replace("float", "float32")
            check_tensor(artifact, f"{what} {spec['name']!r}", spec["shape"], tensor.shape, spec["dtype"], dtype)

    def pose(self, pixels: np.ndarray) -> dict[str, np.ndarray]:
        return self.outputs(pixels, heatmaps=False)

    def raw(self, pixels: np.ndarray) -> dict[str, np.ndarray]:
        return self.outputs(pixels, heatmaps=True)

    def run_one(self, pixels: np.ndarray) -> dict[str, np.ndarray]:
        return self.raw(pixels)

    def outputs(self, pixels: np.ndarray, *, heatmaps: bool) -> dict[str, np.ndarray]:
        """The whole batch in one call; INT8 heatmaps decoded from the uint8 tensor (dequantised only if wanted)."""
        pixels = check_pixels(pixels, self.input_size)
        names = self.manifest.output_names
        outputs = dict(zip(names, self.session.run(names, {self.input_name: pixels}), strict=True))
        if self.manifest.decode == "host_soft_argmax":
            quantised, (scale, zero_point) = outputs.pop("heatmaps"), self.quantisation
            joints, depth = len(self.manifest.joints["names"]), self.manifest.geometry["depth_bins"]
            outputs["coords"], outputs["confidence"] = soft_argmax_nhwc(
                quantised, joints, depth, scale=scale, zero_point=zero_point
            )
            if heatmaps:
                outputs["heatmaps"] = (quantised.astype(np.float32) - zero_point) * np.float32(scale)
        return outputs
