"""One Runner per format behind one interface; :func:`load_runner` picks it from the artifact's suffix."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mhp.errors import MhpError
from mhp.runtime.base import Runner, RuntimeUnavailableError

if TYPE_CHECKING:
    from mhp.export.manifest import ExportManifest

SUFFIXES = {".onnx": "onnx", ".tflite": "tflite", ".mlpackage": "coreml"}


def load_runner(path: str | Path, *, threads: int = 1, manifest: ExportManifest | None = None) -> Runner:
    """The runner for an exported artifact (its manifest sits beside it, or is passed already read)."""
    path = Path(path)
    if not path.exists():
        raise MhpError(f"{path} does not exist; pass an artifact written by mhp-export")
    kind = manifest.format if manifest is not None else SUFFIXES.get(path.suffix)
    if kind == "onnx":
        from mhp.runtime.onnx import OnnxRunner

        return OnnxRunner(path, threads=threads, manifest=manifest)
    if kind == "tflite":
        from mhp.runtime.tflite import TfliteRunner

        return TfliteRunner(path, threads=threads, manifest=manifest)
    if kind == "coreml":
        from mhp.runtime.coreml import CoremlRunner

        return CoremlRunner(path, manifest=manifest)
    raise MhpError(f"{path} is not an artifact mhp can run; expected one of {', '.join(SUFFIXES)}")


__all__ = ["Runner", "RuntimeUnavailableError", "load_runner"]
