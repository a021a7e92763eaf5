"""mhp: MobileHumanPose re-implemented to train, export, benchmark and ship 3D human pose on phones.

``import mhp`` stays light: the torch-based names (models, checkpoints) load on first use, so the runtime path
(``mhp.Predictor`` on a ``.tflite`` or ``.onnx`` artifact) never imports torch.
"""

from importlib import import_module
from typing import Any

from mhp import geometry, metrics, skeleton
from mhp.errors import CheckpointError, MhpError

__version__ = "0.1.0"

LAZY = {
    "create_model": "mhp.models",
    "list_models": "mhp.models",
    "load_checkpoint": "mhp.models.checkpoint",
    "save_checkpoint": "mhp.models.checkpoint",
    "Predictor": "mhp.infer.predictor",
    "convert": "mhp.export.api",
    "benchmark": "mhp.bench.api",
}

__all__ = [
    "CheckpointError",
    "MhpError",
    "Predictor",
    "__version__",
    "benchmark",
    "convert",
    "create_model",
    "geometry",
    "list_models",
    "load_checkpoint",
    "metrics",
    "save_checkpoint",
    "skeleton",
]


def __getattr__(name: str) -> Any:
    if name in LAZY:
        return getattr(import_module(LAZY[name]), name)
    raise AttributeError(f"module 'mhp' has no attribute {name!r}")
