"""torch -> ONNX (opset 17, one file, simplified, checker-clean, with metadata)."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import torch

from mhp.errors import MhpError
from mhp.export.graph import ExportModule
from mhp.util.fileio import atomic_path
from mhp.util.optional import require

OPSET = 17
INPUT_NAME = "image"


def export_onnx(
    module: ExportModule, path: str | Path, *, input_size: int, dynamic_batch: bool, metadata: dict[str, str]
) -> Path:
    """Write ``module`` to ``path`` atomically; outputs are named ``coords``/``confidence`` or ``heatmaps``."""
    names = ["heatmaps"] if module.outputs == "heatmaps" else ["coords", "confidence"]
    example = torch.full((1, 3, input_size, input_size), 128.0)
    return write_onnx(
        module, example, path, input_name=INPUT_NAME, output_names=names, dynamic_batch=dynamic_batch, metadata=metadata
    )


def write_onnx(
    module: torch.nn.Module,
    example: torch.Tensor,
    path: str | Path,
    *,
    input_name: str,
    output_names: list[str],
    dynamic_batch: bool,
    metadata: dict[str, str],
) -> Path:
    """Trace ``module`` on ``example`` and write the simplified, checked graph to ``path`` atomically."""
    onnx, onnxsim = require("onnx"), require("onnxsim")
    axes = {name: {0: "batch"} for name in [input_name, *output_names]} if dynamic_batch else None
    raw = io.BytesIO()  # in memory: the only file written is ``path``
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice; it is chosen on purpose
        torch.onnx.export(
            module,
            (example,),
            raw,
            opset_version=OPSET,
            dynamo=False,
            input_names=[input_name],
            output_names=output_names,
            dynamic_axes=axes,
        )
    proto, ok = onnxsim.simplify(onnx.load_from_string(raw.getvalue()))
    if not ok:
        raise MhpError("onnxsim could not validate the simplified graph; report this with the checkpoint")
    onnx.checker.check_model(proto, full_check=True)
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    with atomic_path(path) as tmp_path:
        onnx.save(proto, str(tmp_path))
    return Path(path)
