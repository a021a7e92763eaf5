"""One Runner per format behind one interface; :func:`load_runner` picks it from the artifact's suffix (and, for
lifters, its manifest's task)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mhp.errors import MhpError
from mhp.runtime.base import Runner, RuntimeUnavailableError

if TYPE_CHECKING:
    from mhp.runtime.lift import LiftRunner
    from mhp.runtime.manifest import ExportManifest

SUFFIXES = {".onnx": "onnx", ".tflite": "tflite", ".mlpackage": "coreml"}


def load_runner(path: str | Path, *, threads: int = 1, manifest: ExportManifest | None = None) -> Runner | LiftRunner:
    """The runner for an exported artifact (its manifest sits beside it, or is passed already read): a
    :class:`~mhp.runtime.lift.LiftRunner` for lifters (manifest ``task: lift``), else an image :class:`Runner`."""
    path = Path(path)
    if not path.exists():
        raise MhpError(f"{path} does not exist; pass an artifact written by mhp-export")
    if manifest is None and path.suffix in SUFFIXES:
        from mhp.runtime.manifest import read_manifest

        manifest = read_manifest(path)
    if manifest is not None and manifest.task == "lift":
        from mhp.runtime.lift import load_lift_runner

        return load_lift_runner(path, manifest, threads=threads)
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
