"""CoreML runner: prediction needs macOS (coremltools converts anywhere but predicts only there)."""

from __future__ import annotations

import platform
from pathlib import Path

import numpy as np

from mhp.runtime.base import Runner, RuntimeUnavailableError
from mhp.runtime.manifest import ExportManifest, read_manifest
from mhp.util.optional import require


class CoremlRunner(Runner):
    def __init__(self, path: str | Path, *, manifest: ExportManifest | None = None) -> None:
        self.manifest = manifest or read_manifest(path)
        self.input_size = self.manifest.geometry["input_size"]
        self.name = f"coreml {Path(path).name}"
        if platform.system() != "Darwin":
            raise RuntimeUnavailableError(
                "CoreML prediction needs macOS; this artifact was converted but cannot run here"
            )
        ct = require("coremltools")
        self.model = ct.models.MLModel(str(path))

    def run_one(self, pixels: np.ndarray) -> dict[str, np.ndarray]:
        image = require("PIL.Image").fromarray(pixels[0].transpose(1, 2, 0).round().astype(np.uint8), "RGB")
        outputs = self.model.predict({self.manifest.input["name"]: image})
        return {name: np.asarray(outputs[name], np.float32) for name in self.manifest.output_names}
