"""LiteRT runner: NHWC crops, uint8 input, dequantised outputs; heatmap artifacts are decoded on the host."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mhp.runtime.base import Runner, check_tensor, missing_tensor
from mhp.runtime.decode import soft_argmax_nhwc
from mhp.runtime.manifest import ExportManifest, read_manifest
from mhp.util.optional import require


class TfliteRunner(Runner):
    """Runs a ``.tflite`` with XNNPACK on ``threads`` CPU threads, one crop at a time (batch 1, as on phones)."""

    def __init__(self, path: str | Path, *, threads: int = 1, manifest: ExportManifest | None = None) -> None:
        interpreter = require("ai_edge_litert.interpreter")
        self.manifest = manifest or read_manifest(path)
        self.interpreter = interpreter.Interpreter(model_path=str(path), num_threads=threads)
        self.interpreter.allocate_tensors()
        self.signature = self.interpreter.get_signature_runner()
        self.input_name = self.manifest.input["name"]
        details = self.signature.get_input_details()[self.input_name]
        self.input_dtype = details["dtype"]
        self.input_quant = details["quantization"]
        self.output_details = self.signature.get_output_details()
        self.input_size = self.manifest.geometry["input_size"]
        self.name = f"litert {Path(path).name}"
        self.check_contract(Path(path).name, details)

    def check_contract(self, artifact: str, input_details: dict) -> None:
        contract = self.manifest.input
        check_tensor(
            artifact, "input", contract["shape"], list(input_details["shape"]), contract["dtype"],
            np.dtype(input_details["dtype"]).name,
        )  # fmt: skip
        for output in self.manifest.outputs:
            actual = self.output_details.get(output["name"])
            if actual is None:
                raise missing_tensor(artifact, "output", output["name"], self.output_details)
            check_tensor(
                artifact, f"output {output['name']!r}", output["shape"], list(actual["shape"]), output["dtype"],
                np.dtype(actual["dtype"]).name,
            )  # fmt: skip

    def pose(self, pixels: np.ndarray) -> dict[str, np.ndarray]:
        return self.batched(pixels, lambda crop: self.run_one(crop, heatmaps=False))

    def run_one(self, pixels: np.ndarray, *, heatmaps: bool = True) -> dict[str, np.ndarray]:
        image = pixels.transpose(0, 2, 3, 1)
        if self.input_dtype != np.float32:
            scale, zero_point = self.input_quant
            info = np.iinfo(self.input_dtype)
            image = np.clip(np.round(image / (scale or 1.0)) + zero_point, info.min, info.max)
        outputs = self.signature(**{self.input_name: image.astype(self.input_dtype)})
        result = {name: self.dequantize(name, v) for name, v in outputs.items() if heatmaps or name != "heatmaps"}
        if self.manifest.decode == "host_soft_argmax":  # decoded from the raw (quantised) tensor: no extra copy
            heatmaps = outputs["heatmaps"]
            scale, zero_point = self.output_details["heatmaps"]["quantization"]
            if heatmaps.dtype == np.float32:
                scale, zero_point = 1.0, 0
            joints = len(self.manifest.joints["names"])
            result["coords"], result["confidence"] = soft_argmax_nhwc(
                heatmaps, joints, self.manifest.geometry["depth_bins"], scale=scale, zero_point=zero_point
            )
        return result

    def dequantize(self, name: str, value: np.ndarray) -> np.ndarray:
        if value.dtype == np.float32:
            return value
        scale, zero_point = self.output_details[name]["quantization"]
        return (value.astype(np.float32) - zero_point) * np.float32(scale)
