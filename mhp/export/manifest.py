"""ExportManifest: the JSON beside every artifact that tells a consumer how to feed it and read it.

Everything the demo apps, ``Predictor`` and ``mhp-bench`` need is here; nothing is copied by hand.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mhp.errors import MhpError
from mhp.fileio import atomic_path, read_json_file
from mhp.geometry import DEPTH_RANGE_MM
from mhp.normalization import IMAGENET_MEAN, IMAGENET_STD, NORMALIZATIONS

FORMAT = "mhp-export-manifest"
VERSION = 1


@dataclass(frozen=True)
class ExportManifest:
    """How to feed an artifact and read its outputs (see ``export/README.md`` for every field)."""

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
    calibration: dict[str, Any] | None = None
    graph: dict[str, Any] | None = None  # TFLite: partitions, ops outside the delegate, TRANSPOSE count
    parity: dict[str, Any] = field(default_factory=lambda: {"status": "not run"})
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
    path = manifest_path(artifact)
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
        raise MhpError(f"{path} has manifest version {content.get('version')}, this mhp reads {VERSION}")
    names = {f.name for f in dataclasses.fields(ExportManifest)}
    try:
        return ExportManifest(**{k: v for k, v in content.items() if k in names})
    except TypeError as exc:
        raise MhpError(f"{path} lacks fields ({exc}); re-export with mhp-export") from None


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def input_contract(model, *, name: str, shape: list[int], layout: str, dtype: str, **extra: Any) -> dict[str, Any]:
    """The input record: a 0-255 RGB crop; normalisation is inside the artifact (recorded for reference)."""
    return {
        "name": name,
        "shape": shape,
        "layout": layout,
        "dtype": dtype,
        "color": "RGB",
        "pixel_range": [0, 255],
        "crop": "the person box extended to the model's aspect ratio and scaled to the input size (spec 6.3)",
        "normalization": {
            "name": model.normalization,
            "inside_graph": True,
            "formula": "(pixel * pixel_scale - mean) / std",
            "pixel_scale": NORMALIZATIONS[model.normalization],
            "mean": list(IMAGENET_MEAN),
            "std": list(IMAGENET_STD),
        },
        **extra,
    }


def model_records(model) -> tuple[dict[str, Any], dict[str, Any]]:
    """The joint-set and geometry records of ``model``."""
    joint_set = model.joint_set
    joints = {
        "set": joint_set.name if joint_set else None,
        "names": list(joint_set.joints) if joint_set else [f"joint_{i}" for i in range(model.num_joints)],
        "bones": [list(b) for b in joint_set.bones] if joint_set else [],
        "flip_pairs": [list(p) for p in joint_set.flip_pairs] if joint_set else [],
        "root": joint_set.root if joint_set else 0,
    }
    width, height = model.heatmap_size
    geometry = {
        "input_size": model.input_size,
        "heatmap_size": [width, height],
        "depth_bins": model.depth_bins,
        "coordinates": "voxels: x in [0, W-1], y in [0, H-1], z in [0, D-1]",
        "voxel_to_patch_pixels": model.input_size / width,
        "depth_range_mm": DEPTH_RANGE_MM,
        "depth": "root-relative mm = (z / D * 2 - 1) * depth_range_mm / 2 (spec 5)",
    }
    return joints, geometry
