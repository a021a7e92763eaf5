"""torch -> ONNX (opset 17, one file, simplified, checker-clean, with metadata), and its static INT8 (QDQ)."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import torch

from mhp.errors import MhpError
from mhp.export.graph import ExportModule
from mhp.util.fileio import atomic_path
from mhp.util.optional import require

OPSET = 17
INPUT_NAME = "image"


def export_onnx(module: ExportModule, path: str | Path, *, dynamic_batch: bool, metadata: dict[str, str]) -> Path:
    """Write ``module`` to ``path`` atomically; outputs are named ``coords``/``confidence`` or ``heatmaps``."""
    names = ["heatmaps"] if module.outputs == "heatmaps" else ["coords", "confidence"]
    example = module.example_input()
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


def head_nodes(graph) -> list[str]:
    """The nodes after the graph's last convolution: the soft-argmax head, kept in float by :func:`quantize_qdq`."""
    last = [node for node in graph.node if node.op_type == "Conv"][-1]
    downstream, names = set(last.output), []
    for node in graph.node:  # ONNX lists nodes in topological order
        if downstream.intersection(node.input):
            names.append(node.name)
            downstream.update(node.output)
    return names


def quantize_qdq(source: str | Path, path: str | Path, pixels: np.ndarray) -> Path:
    """Static INT8 of the float ONNX graph ``source`` for ONNX Runtime, written to ``path`` atomically.

    QDQ format (QuantizeLinear/DequantizeLinear pairs that ONNX Runtime fuses into integer kernels): int8 weights
    per output channel, uint8 activations (the U8S8 pair ONNX Runtime's x86 kernels run fastest) with min-max
    ranges from ``pixels``, uint8 ``(N, S, S, 3)`` calibration crops. The soft-argmax head stays float: an INT8
    softmax over a whole volume loses voxels (the reason full-INT8 TFLite decodes on the host).
    """
    onnx, quantization = require("onnx"), require("onnxruntime.quantization")
    batches = iter(np.ascontiguousarray(pixels.transpose(0, 3, 1, 2), np.float32)[:, None])

    class Crops(quantization.CalibrationDataReader):
        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(batches, None)
            return None if batch is None else {INPUT_NAME: batch}

    with atomic_path(path) as tmp_path, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its advice to run quant_pre_process: onnxsim has already shaped the graph
        quantization.quantize_static(
            str(source),
            str(tmp_path),
            Crops(),
            quant_format=quantization.QuantFormat.QDQ,
            per_channel=True,
            activation_type=quantization.QuantType.QUInt8,
            weight_type=quantization.QuantType.QInt8,
            nodes_to_exclude=head_nodes(onnx.load(str(source)).graph),
        )
    return Path(path)
