"""torch -> ONNX (opset 17, one file, simplified, checker-clean, with metadata), and its static INT8 (QDQ)."""

from __future__ import annotations

import io
import logging
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
    names = ["coords", "confidence"] if module.outputs == "coords" else ["heatmaps"]
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


def stem_nodes(graph) -> list[str]:
    """The nodes before the graph's first convolution (pixel centring, space-to-depth): kept in float by
    :func:`quantize_qdq`, whose first quantisation is then the first convolution's input."""
    first = next(i for i, node in enumerate(graph.node) if node.op_type == "Conv")
    return [node.name for node in graph.node[:first] if node.op_type != "Constant"]


def integer_output(proto) -> dict[str, float | int]:
    """Make the graph's one output the uint8 tensor before its last ``DequantizeLinear``; returns that tensor's
    scale and zero point (the host decoder needs them, the manifest records them)."""
    onnx, numpy_helper = require("onnx"), require("onnx.numpy_helper")
    graph, output = proto.graph, proto.graph.output[0]
    producers = {node.output[0]: node for node in graph.node}
    last = producers[output.name]
    dequantize = producers[last.input[0]] if last.op_type == "Transpose" else last
    if dequantize.op_type != "DequantizeLinear":
        raise MhpError(f"the quantised graph's output comes from {dequantize.op_type}, not a DequantizeLinear")
    constants = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    scale, zero_point = (constants[name].item() for name in dequantize.input[1:3])
    if last is dequantize:
        dequantize.CopyFrom(onnx.helper.make_node("Identity", [dequantize.input[0]], [output.name]))
    else:
        last.input[0] = dequantize.input[0]  # the layout transpose moves bytes instead of floats
        graph.node.remove(dequantize)
    output.type.tensor_type.elem_type = onnx.TensorProto.UINT8
    return {"scale": float(scale), "zero_point": int(zero_point)}


def quantize_qdq(source: str | Path, path: str | Path, pixels: np.ndarray) -> dict[str, float | int]:
    """Static INT8 of the float heatmap graph ``source`` for ONNX Runtime, written to ``path`` atomically;
    returns the output's quantisation (:func:`integer_output`).

    QDQ format (QuantizeLinear/DequantizeLinear pairs that ONNX Runtime fuses into integer kernels): int8 weights
    per output channel, uint8 activations (the U8S8 pair ONNX Runtime's x86 kernels run fastest) with min-max
    ranges from ``pixels``, uint8 ``(N, S, S, 3)`` calibration crops. The heatmaps come out as uint8 and are
    decoded on the host (:func:`mhp.runtime.decode.soft_argmax_nhwc`, a table lookup per value): a float
    soft-argmax in the graph costs more than the host's (0.6 ms against 0.26 at full size), and an INT8 one
    loses voxels.
    """
    onnx, quantization = require("onnx"), require("onnxruntime.quantization")
    batches = iter(np.ascontiguousarray(pixels.transpose(0, 3, 1, 2), np.float32)[:, None])

    class Crops(quantization.CalibrationDataReader):
        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(batches, None)
            return None if batch is None else {INPUT_NAME: batch}

    root = logging.getLogger()
    level = root.level
    with atomic_path(path) as tmp_path, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its advice to run quant_pre_process: onnxsim has already shaped the graph
        root.setLevel(logging.ERROR)  # the same advice, and a note per BatchNorm weight, on the root logger
        try:
            quantization.quantize_static(
                str(source),
                str(tmp_path),
                Crops(),
                quant_format=quantization.QuantFormat.QDQ,
                per_channel=True,
                activation_type=quantization.QuantType.QUInt8,
                weight_type=quantization.QuantType.QInt8,
                nodes_to_exclude=stem_nodes(onnx.load(str(source)).graph),
            )
        finally:
            root.setLevel(level)
        proto = onnx.load(str(tmp_path))
        output = integer_output(proto)
        del proto.metadata_props[:]  # the quantiser's own note replaces the source's: bring the source's back
        proto.metadata_props.extend(onnx.load(str(source), load_external_data=False).metadata_props)
        onnx.checker.check_model(proto)
        onnx.save(proto, str(tmp_path))
    return output
