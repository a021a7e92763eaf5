"""torch -> ONNX (opset 17, one file, simplified, checker-clean, with metadata)."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import torch

from mhp.errors import MhpError
from mhp.export.graph import ExportModule
from mhp.fileio import atomic_path
from mhp.optional import require

OPSET = 17
INPUT_NAME = "image"


def export_onnx(
    module: ExportModule, path: str | Path, *, input_size: int, dynamic_batch: bool, metadata: dict[str, str]
) -> Path:
    """Write ``module`` to ``path`` atomically; outputs are named ``coords``/``confidence`` or ``heatmaps``."""
    onnx, onnxsim = require("onnx"), require("onnxsim")
    names = ["heatmaps"] if module.outputs == "heatmaps" else ["coords", "confidence"]
    axes = {name: {0: "batch"} for name in [INPUT_NAME, *names]} if dynamic_batch else None
    example = torch.full((1, 3, input_size, input_size), 128.0)
    raw = io.BytesIO()  # in memory: the only file written is ``path``
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice; it is chosen on purpose
        torch.onnx.export(
            module,
            (example,),
            raw,
            opset_version=OPSET,
            dynamo=False,
            input_names=[INPUT_NAME],
            output_names=names,
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
