"""mhp: MobileHumanPose re-implemented to train, export, benchmark and ship 3D human pose on phones."""

from mhp import geometry, metrics, skeleton
from mhp.checkpoint import load_checkpoint, save_checkpoint
from mhp.errors import CheckpointError, MhpError
from mhp.models import create_model, list_models

__version__ = "0.1.0"

__all__ = [
    "CheckpointError",
    "MhpError",
    "__version__",
    "create_model",
    "geometry",
    "list_models",
    "load_checkpoint",
    "metrics",
    "save_checkpoint",
    "skeleton",
]
