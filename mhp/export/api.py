"""``mhp.convert``: the Python face of ``mhp-export``. A checkpoint (or a model in memory) in, the artifacts out, each
with its manifest and parity report::

    artifacts = mhp.convert("runs/quickstart/best.pt", target="tflite", precision="int8")
    assert all(a.passed for a in artifacts)

(The package that does the work is ``mhp.export``, hence the name, after litert-torch's ``convert``.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mhp.config import ExportConfig
from mhp.errors import MhpError
from mhp.export.pipeline import export_checkpoint
from mhp.runtime.manifest import ExportManifest, read_manifest


@dataclass(frozen=True)
class Artifact:
    """One exported file: where it is, what it is, its manifest (None when the converter failed) and parity."""

    path: Path
    format: str
    precision: str
    manifest: ExportManifest | None
    parity: dict[str, Any]
    size_bytes: int | None

    @property
    def passed(self) -> bool:
        """False when the artifact failed to convert or failed its parity gate; a skipped gate passes."""
        return self.parity.get("passed") is not False


def convert(
    checkpoint: str | Path | Any,
    *,
    target: str = "all",
    precision: str | Sequence[str] = (),
    calib: str | Path | None = None,
    out: str | Path | None = None,
    check: bool = True,
    threads: int = 1,
    log: Callable[[str], None] = print,
    **options: Any,
) -> list[Artifact]:
    """Export ``checkpoint`` (an mhp checkpoint or original snapshot path, or a model made by
    :func:`mhp.create_model`) to ``target`` (onnx, tflite, coreml or all) in each ``precision`` (default: every one
    the target offers). ``calib``: full-INT8 calibration data, ``NAME=ROOT``, a folder of images or ``synthetic``
    (default: the checkpoint's training data, :mod:`mhp.export.sources`); ``out``: the folder (default:
    ``runs/export/RUN``, RUN the checkpoint's folder name; required for a model in memory, which is saved there
    first); ``check=False`` skips the parity gates. ``options``: any other field of
    :class:`~mhp.config.ExportConfig` (``calib_samples``, ``parity_data``, ``parity_samples``, ``backbone``, ...)."""
    if not isinstance(checkpoint, str | Path):
        checkpoint = save_model(checkpoint, out)
    precisions = (precision,) if isinstance(precision, str) else tuple(precision)
    cfg = ExportConfig(
        checkpoint=str(checkpoint),
        target=target,
        precision=precisions,
        calib_data=None if calib is None else str(calib),
        out=None if out is None else str(out),
        no_check=not check,
        threads=threads,
        **options,
    )
    return [artifact(result) for result in export_checkpoint(cfg, log=log)]


def save_model(model: Any, out: str | Path | None) -> Path:
    """A model in memory written as ``OUT/<model>_source.pt``, the checkpoint its manifests point to."""
    from mhp.models.checkpoint import save_checkpoint

    if out is None:
        raise MhpError("convert(model): pass out= (the folder for the artifacts and the model's checkpoint)")
    if not hasattr(model, "model_name"):
        raise MhpError(
            f"convert() takes a checkpoint path or a model from mhp.create_model, not {type(model).__name__}"
        )
    path = Path(out) / f"{model.model_name.lower()}_source.pt"
    return save_checkpoint(path, model.eval())


def artifact(result: dict[str, Any]) -> Artifact:
    path = Path(result["path"])
    manifest = read_manifest(path) if path.exists() else None
    return Artifact(path, result["format"], result["precision"], manifest, result["parity"], result.get("size_bytes"))
