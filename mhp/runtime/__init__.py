"""One Runner per format behind one interface; :func:`load_runner` picks it from the artifact's suffix."""

from __future__ import annotations

from pathlib import Path

from mhp.errors import MhpError
from mhp.runtime.base import Runner, RuntimeUnavailableError

SUFFIXES = {".onnx": "onnx", ".tflite": "tflite", ".mlpackage": "coreml"}


def load_runner(path: str | Path, *, threads: int = 1) -> Runner:
    """The runner for an exported artifact (its manifest must sit beside it)."""
    path = Path(path)
    if not path.exists():
        raise MhpError(f"{path} does not exist; pass an artifact written by mhp-export")
    kind = SUFFIXES.get(path.suffix)
    if kind == "onnx":
        from mhp.runtime.onnx import OnnxRunner

        return OnnxRunner(path, threads=threads)
    if kind == "tflite":
        from mhp.runtime.tflite import TfliteRunner

        return TfliteRunner(path, threads=threads)
    if kind == "coreml":
        from mhp.runtime.coreml import CoremlRunner

        return CoremlRunner(path)
    raise MhpError(f"{path} is not an artifact mhp can run; expected one of {', '.join(SUFFIXES)}")


__all__ = ["Runner", "RuntimeUnavailableError", "load_runner"]
