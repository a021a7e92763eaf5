"""Heavy optional libraries, imported only by the code that needs them, with an error naming the extra."""

from __future__ import annotations

import importlib
from types import ModuleType

from mhp.errors import MhpError

# Which ``pip install 'mhp[EXTRA]'`` provides each optional module.
EXTRAS = {
    "onnx": "export",
    "onnxsim": "export",
    "onnxruntime": "export",
    "onnx2tf": "export",
    "tensorflow": "export",
    "ai_edge_litert": "export",
    "coremltools": "coreml",
}


class MissingDependencyError(MhpError):
    """An optional library is not installed."""


def require(module: str) -> ModuleType:
    """Import ``module`` or fail with the one-line install hint."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        extra = EXTRAS.get(top, "export")
        raise MissingDependencyError(
            f"{top} is not installed ({exc.msg}); install the {extra} extra: pip install -e '.[{extra}]'"
        ) from None
