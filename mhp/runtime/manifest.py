"""ExportManifest: the JSON beside every artifact that tells a consumer how to feed it and read it.

It belongs to its consumers: reading (with one-line errors), writing, the artifact's sha256 pairing and the joint
and model records are here, torch-free; ``mhp.export.contract`` builds the input record at export time. Everything
the demo apps, ``Predictor`` and ``mhp-bench`` need is here; nothing is copied by hand.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mhp.errors import MhpError
from mhp.geometry import DEPTH_RANGE_MM
from mhp.util.fileio import atomic_path, read_json_file

FORMAT = "mhp-export-manifest"
VERSION = 1


@dataclass(frozen=True)
class ExportManifest:
    """How to feed an artifact and read its outputs (see ``docs/export.md`` for every field)."""

    artifact: str  # file or folder name, beside the manifest
    format: str  # onnx, tflite, coreml
    precision: str  # fp32, fp16, dynamic, int8
    model: str
    model_kwargs: dict[str, Any]
    input: dict[str, Any]
    outputs: list[dict[str, Any]]
    decode: str  # "in_graph": coordinates come out; "host_soft_argmax": decode the heatmaps on the host
    joints: dict[str, Any]
    geometry: dict[str, Any]
    source_checkpoint: dict[str, str]
    tools: dict[str, str]
    artifact_sha256: str | None = None  # set by write_manifest; read_manifest refuses an artifact that differs
    calibration: dict[str, Any] | None = None
    graph: dict[str, Any] | None = None  # TFLite: partitions, ops outside the delegate, TRANSPOSE count
    parity: dict[str, Any] = field(default_factory=lambda: {"status": "not run"})
    task: str = "pose"  # pose: an image crop in (geometry says how); lift: normalised 2D keypoints in (LIFT_MLP)
    format_name: str = FORMAT
    version: int = VERSION

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def output_names(self) -> list[str]:
        return [o["name"] for o in self.outputs]


def manifest_path(artifact: str | Path) -> Path:
    artifact = Path(artifact)
    return artifact.with_name(artifact.name + ".json")


def write_manifest(artifact: str | Path, manifest: ExportManifest) -> Path:
    """Write the manifest beside ``artifact``, recording the artifact's sha256 as it is now (when it exists)."""
    path = manifest_path(artifact)
    manifest = replace(manifest, artifact_sha256=artifact_sha256(artifact) if Path(artifact).exists() else None)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(manifest.to_dict(), indent=2) + "\n")
    return path


def read_manifest(artifact: str | Path) -> ExportManifest:
    """The manifest beside ``artifact``, with one-line errors for a missing, corrupt or foreign file."""
    path = manifest_path(artifact)
    if not path.is_file():
        raise MhpError(f"{path} is missing: every artifact needs its manifest; re-export with mhp-export")
    content = read_json_file(path, fix="re-export with mhp-export")
    if not isinstance(content, dict) or content.get("format_name") != FORMAT:
        raise MhpError(f"{path} is not an mhp export manifest; re-export with mhp-export")
    if content.get("version") != VERSION:
        found = repr(content.get("version"))[:40]  # any JSON value: quoted, one line, short
        raise MhpError(f"{path} has manifest version {found}, this mhp reads {VERSION}; re-export with mhp-export")
    hints = typing.get_type_hints(ExportManifest)
    values = {k: v for k, v in content.items() if k in hints}
    for key, value in values.items():
        if not _fits(value, hints[key]):
            raise MhpError(f"{path}: field {key!r} is {type(value).__name__}, not {_kind(hints[key])}; re-export it")
    if not all(isinstance(o, dict) and isinstance(o.get("name"), str) for o in values.get("outputs", [])):
        raise MhpError(f"{path}: every entry of 'outputs' needs a 'name'; re-export with mhp-export")
    try:
        manifest = ExportManifest(**values)
    except TypeError as exc:
        raise MhpError(f"{path} lacks fields ({exc}); re-export with mhp-export") from None
    check_artifact_matches(artifact, manifest)
    return manifest


def _fits(value: Any, hint: Any) -> bool:
    """Whether a JSON value has the type of a manifest field (its outer type: dict, list, str, int or None)."""
    options = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    kinds = tuple(typing.get_origin(o) or o for o in options)
    return isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)


def _kind(hint: Any) -> str:
    options = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    return " or ".join("null" if o is type(None) else (typing.get_origin(o) or o).__name__ for o in options)


def check_artifact_matches(artifact: str | Path, manifest: ExportManifest) -> None:
    """Refuse an artifact whose bytes are not the ones its manifest was written for (an export killed between
    writing the two, or a file copied over by hand)."""
    if manifest.artifact_sha256 is None or not Path(artifact).exists():
        return
    if artifact_sha256(artifact) != manifest.artifact_sha256:
        raise MhpError(
            f"{artifact} does not match its manifest {manifest_path(artifact).name} (another sha256): an export was "
            "interrupted or the file was replaced; re-export with mhp-export"
        )


def artifact_sha256(path: str | Path) -> str:
    """sha256 of a file, or of a folder (``.mlpackage``): every file's relative path and content, in order."""
    path = Path(path)
    if not path.is_dir():
        return file_sha256(path)
    digest = hashlib.sha256()
    for file in sorted(f for f in path.rglob("*") if f.is_file()):
        digest.update(f"{file.relative_to(path).as_posix()}\0{file_sha256(file)}\0".encode())
    return digest.hexdigest()


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def joint_records(joint_set) -> dict[str, Any]:
    """A joint set as the manifest's ``joints`` record: set, names, bones, flip pairs and root."""
    return {
        "set": joint_set.name,
        "names": list(joint_set.joints),
        "bones": [list(b) for b in joint_set.bones],
        "flip_pairs": [list(p) for p in joint_set.flip_pairs],
        "root": joint_set.root,
    }


def model_records(model) -> tuple[dict[str, Any], dict[str, Any]]:
    """The joint-set and geometry records of ``model``."""
    joint_set = model.joint_set
    unnamed = {"set": None, "names": [f"joint_{i}" for i in range(model.num_joints)], "bones": [], "flip_pairs": []}
    joints = joint_records(joint_set) if joint_set else {**unnamed, "root": 0}
    width, height = model.heatmap_size
    geometry = {
        "input_size": model.input_size,
        "heatmap_size": [width, height],
        "depth_bins": model.depth_bins,
        "coordinates": "voxels: x in [0, W-1], y in [0, H-1], z in [0, D-1]",
        "voxel_to_patch_pixels": model.input_size / width,
        "depth_range_mm": DEPTH_RANGE_MM,
        "depth": "root-relative mm = (z / D * 2 - 1) * depth_range_mm / 2 (reference §5)",
    }
    return joints, geometry
