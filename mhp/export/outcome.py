"""Where a gated artifact lands: a failed gate never replaces a passing artifact, and the export report keeps
every artifact of the folder, not only the last run's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mhp.errors import MhpError
from mhp.runtime.manifest import manifest_path, read_manifest

FAILED_TAG = ".failed"


def failed_name(path: Path) -> Path:
    """``lpski_fp32.onnx`` -> ``lpski_fp32.failed.onnx``: where a failed artifact goes beside a passing one."""
    return path.with_name(path.stem + FAILED_TAG + path.suffix)


def passes(path: Path) -> bool:
    """Whether ``path`` holds an artifact whose manifest (intact, matching its bytes) records a passed gate."""
    try:
        return path.exists() and read_manifest(path).parity.get("passed") is True
    except MhpError:
        return False


def destination(path: Path, passed: bool | None) -> Path:
    """Where a new artifact with gate result ``passed`` goes: over ``path``, unless it failed and ``path`` passes."""
    return failed_name(path) if passed is False and passes(path) else path


def remove_failed_copy(path: Path) -> None:
    """A passing ``path`` makes an earlier failed copy beside it stale: remove it with its manifest."""
    for stale in (failed_name(path), manifest_path(failed_name(path))):
        if stale.is_file():
            stale.unlink()


def merged_report(out: Path, name: str, checkpoint: str, results: list[dict[str, Any]]) -> str:
    """The folder's export report: this run's results, then earlier entries for artifacts still there."""
    fresh = {result["path"] for result in results}
    try:
        earlier = json.loads((out / name).read_text()).get("artifacts", [])
    except (OSError, ValueError, AttributeError):
        earlier = []  # no report, or not one we wrote: start anew
    kept = [
        entry
        for entry in earlier
        if isinstance(entry, dict) and entry.get("path") not in fresh and Path(str(entry.get("path"))).exists()
    ]
    return json.dumps({"checkpoint": checkpoint, "artifacts": results + kept}, indent=2) + "\n"
