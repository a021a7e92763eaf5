"""Heavy optional libraries, imported only by the code that needs them, with an error naming the extra."""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Iterable
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
    "matplotlib": "bench",
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


def installed_versions(distributions: Iterable[str]) -> dict[str, str]:
    """The installed version of each named distribution; the ones not installed are left out."""
    versions = {}
    for name in distributions:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions
