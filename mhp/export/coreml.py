"""torch -> CoreML ``mlprogram`` (fp32, fp16, INT8 weights) with an ``ImageType`` input, converted on Linux."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import tempfile
import warnings
from pathlib import Path

import torch

from mhp.errors import MhpError
from mhp.export.graph import ExportModule, image_type_scale_bias
from mhp.export.onnx import INPUT_NAME
from mhp.models.pose_model import IntegralPoseModel
from mhp.util.fileio import replace_path
from mhp.util.optional import require

PRECISIONS = ("fp32", "fp16", "int8")
LICENSE = "Apache-2.0 (mhp code); weights: see the checkpoint's training data licences"


def export_coreml(model: IntegralPoseModel, path: str | Path, precision: str, *, metadata: dict[str, str]) -> Path:
    """Write an ``.mlpackage`` folder atomically (built beside ``path``, then renamed over it)."""
    if precision not in PRECISIONS:
        raise MhpError(f"unknown CoreML precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    ct = require("coremltools")
    size = model.input_size
    scale, bias = image_type_scale_bias(model)
    module = ExportModule(model, centered=True)
    # coremltools warns that torch 2.13 is newer than it was tested with, and draws progress bars on stderr
    with warnings.catch_warnings(), torch.no_grad(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        program = torch.export.export(module, (torch.zeros(1, 3, size, size),)).run_decompositions({})
        mlmodel = ct.convert(
            program,
            inputs=[ct.ImageType(name=INPUT_NAME, shape=(1, 3, size, size), scale=scale, bias=bias)],
            outputs=[ct.TensorType(name="coords"), ct.TensorType(name="confidence")],
            convert_to="mlprogram",
            compute_precision=ct.precision.FLOAT32 if precision == "fp32" else ct.precision.FLOAT16,
            minimum_deployment_target=ct.target.iOS16,
        )
        if precision == "int8":
            mlmodel = int8_weights(ct, mlmodel)
    inputs = {INPUT_NAME: f"{size}x{size} RGB person crop"}
    outputs = {
        "coords": "(1, J, 3) voxel coordinates x, y (heatmap cells), z (depth bin)",
        "confidence": "(1, J) probability of each joint's most likely voxel",
    }
    return save_described(mlmodel, Path(path), metadata, inputs, outputs)


def int8_weights(ct, mlmodel):
    """INT8 linear-symmetric weights (computation stays float16)."""
    config = ct.optimize.coreml.OptimizationConfig(
        global_config=ct.optimize.coreml.OpLinearQuantizerConfig(mode="linear_symmetric", dtype="int8")
    )
    return ct.optimize.coreml.linear_quantize_weights(mlmodel, config)


def save_described(mlmodel, path: Path, metadata: dict, inputs: dict[str, str], outputs: dict[str, str]) -> Path:
    """Descriptions, licence and ``metadata`` into the package, then :func:`save_package`."""
    mlmodel.short_description = metadata.get("description", "")
    mlmodel.author = "mhp"
    mlmodel.license = LICENSE
    for name, text in inputs.items():
        mlmodel.input_description[name] = text
    for name, text in outputs.items():
        mlmodel.output_description[name] = text
    mlmodel.user_defined_metadata.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in metadata.items()})
    return save_package(mlmodel, path)


def save_package(mlmodel, path: Path) -> Path:
    """Save to a temporary folder beside ``path`` and swap it in, so ``path`` is never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        mlmodel.save(str(staging / path.name))
        replace_path(staging / path.name, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path
