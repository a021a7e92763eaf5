"""ONNX -> TFLite: onnx2tf builds a TensorFlow SavedModel of the network after its first convolution (NHWC
heatmaps); the TFLite converter then writes each precision from the pixels through that convolution, built here
with the input normalisation folded in (:class:`mhp.export.graph.FoldedStem`: no per-pixel multiply-add on three
channels, which full INT8 runs slowly), and the SavedModel. The image input is uint8 NHWC; for float precisions,
a soft-argmax head written natively in NHWC (no TRANSPOSE ops). Full INT8 keeps the head out of the graph:
it outputs int8 heatmaps that the host decodes in float (export-toolchain.md: in-graph INT8 soft-argmax
is off by 1.5-5.6 voxels, outside 0.06-0.13).
"""

from __future__ import annotations

import collections
import contextlib
import io
import os
from pathlib import Path

import numpy as np

from mhp.errors import MhpError
from mhp.export.graph import StemArrays
from mhp.util.fileio import atomic_path, disk_full_cause
from mhp.util.optional import require

PRECISIONS = ("fp32", "fp16", "dynamic", "int8")
# onnx2tf looks for this file in its working folder before trying to download it (offline pitfall).
ONNX2TF_SAMPLE = "calibration_image_sample_data_20x128x128x3_float32.npy"


def onnx_to_saved_model(onnx_path: Path, workdir: Path, *, keep_shape: tuple[str, ...] = ()) -> Path:
    """Convert an ONNX graph with onnx2tf; returns the SavedModel folder. Image inputs become NHWC float32;
    the inputs named in ``keep_shape`` keep their ONNX shape (onnx2tf would read a 3-D input as NCW)."""
    onnx2tf = require("onnx2tf")
    onnx_path, workdir = onnx_path.resolve(), workdir.resolve()  # onnx2tf runs inside workdir
    workdir.mkdir(parents=True, exist_ok=True)
    np.save(workdir / ONNX2TF_SAMPLE, np.zeros((20, 128, 128, 3), np.float32))
    out = workdir / "saved_model"
    previous = Path.cwd()
    os.chdir(workdir)
    try:
        with contextlib.redirect_stdout(io.StringIO()) as log:
            onnx2tf.convert(
                input_onnx_file_path=str(onnx_path),
                output_folder_path=str(out),
                non_verbose=True,
                keep_shape_absolutely_input_names=list(keep_shape) or None,
            )
    except (Exception, SystemExit) as exc:  # onnx2tf raises bare exceptions or exits; keep its log for the user
        if disk_full_cause(exc) is not None:
            raise
        tail = " ".join(log.getvalue()[-500:].split())
        raise MhpError(f"onnx2tf could not convert {onnx_path.name}: {exc}; log: {tail}") from None
    finally:
        os.chdir(previous)
    return out


def tf_soft_argmax(tf, heatmaps, num_joints: int, depth_bins: int):
    """NHWC ``(1, H, W, J*D)`` logits -> ``coords (1, J, 3)``, ``confidence (1, J)`` with axis-wise ops only."""
    _, height, width, _ = heatmaps.shape
    volume = tf.reshape(heatmaps, (-1, height, width, num_joints, depth_bins))
    volume = volume - tf.reduce_max(volume, axis=[1, 2, 4], keepdims=True)
    probs = tf.exp(volume)
    probs = probs / tf.reduce_sum(probs, axis=[1, 2, 4], keepdims=True)
    x = tf.reduce_sum(tf.reduce_sum(probs, axis=[1, 4]) * tf.reshape(tf.range(width, dtype=tf.float32), (1, -1, 1)), 1)
    y = tf.reduce_sum(tf.reduce_sum(probs, axis=[2, 4]) * tf.reshape(tf.range(height, dtype=tf.float32), (1, -1, 1)), 1)
    z = tf.reduce_sum(tf.reduce_sum(probs, axis=[1, 2]) * tf.range(depth_bins, dtype=tf.float32), 2)
    coords = tf.concat([x[:, :, None], y[:, :, None], z[:, :, None]], axis=2)
    return coords, tf.reduce_max(probs, axis=[1, 2, 4])


def tf_stem(tf, stem: StemArrays, pixels):
    """The folded first convolution on NHWC float pixels: padded with the pixel that normalises to zero (strips
    concatenated on each side: TFLite's PAD takes one value for every channel), convolved, activated."""
    pad, value = stem.padding, stem.pad_value.astype(np.float32)
    if pad:
        batch, height, width, channels = pixels.shape
        rows = tf.broadcast_to(value, (batch, pad, width, channels))
        padded = tf.concat([rows, pixels, rows], axis=1)
        cols = tf.broadcast_to(value, (batch, height + 2 * pad, pad, channels))
        pixels = tf.concat([cols, padded, cols], axis=2)
    features = tf.nn.conv2d(pixels, stem.weight, stem.stride, "VALID") + stem.bias
    if stem.activation == "relu":
        return tf.nn.relu(features)
    if stem.activation == "relu6":
        return tf.nn.relu6(features)
    return tf.nn.relu(features) - stem.slope * tf.nn.relu(-features)  # PReLU, the form TFLite fuses to PRELU


def convert_saved_model(
    saved_model: Path,
    precision: str,
    *,
    input_size: int,
    num_joints: int,
    depth_bins: int,
    stem: StemArrays,
    calibration: np.ndarray | None = None,
) -> bytes:
    """One TFLite flatbuffer from the SavedModel after ``stem``. ``calibration``: uint8 ``(N, S, S, 3)`` crops,
    needed for ``int8``."""
    if precision not in PRECISIONS:
        raise MhpError(f"unknown TFLite precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    tf = require("tensorflow")
    loaded = tf.saved_model.load(str(saved_model))
    network = loaded.signatures["serving_default"]
    (input_key,) = network.structured_input_signature[1]
    shape = (1, input_size, input_size, 3)

    def heatmaps_of(image):
        return next(iter(network(**{input_key: tf_stem(tf, stem, image)}).values()))

    if precision == "int8":

        @tf.function(input_signature=[tf.TensorSpec(shape, tf.float32, name="image")])
        def graph(image):
            return {"heatmaps": heatmaps_of(image)}

    else:

        @tf.function(input_signature=[tf.TensorSpec(shape, tf.uint8, name="image")])
        def graph(image):
            coords, confidence = tf_soft_argmax(tf, heatmaps_of(tf.cast(image, tf.float32)), num_joints, depth_bins)
            return {"coords": coords, "confidence": confidence}

    converter = tf.lite.TFLiteConverter.from_concrete_functions([graph.get_concrete_function()], loaded)
    samples = None
    if precision == "int8":
        if calibration is None or len(calibration) == 0:
            raise MhpError("full INT8 needs calibration crops; pass --calib NAME=ROOT, DIR or synthetic")
        samples = calibration.astype(np.float32)
        # One black and one white pixel pin the input range to 0-255: the uint8 input then takes raw pixels
        # (scale 1, zero point 0) instead of whatever range the calibration crops happen to span.
        samples[0, 0, 0], samples[0, 0, 1] = 0.0, 255.0
        converter.inference_input_type = tf.uint8
        converter.inference_output_type = tf.int8
    return convert_at_precision(tf, converter, precision, samples)


def convert_at_precision(tf, converter, precision: str, samples: np.ndarray | None) -> bytes:
    """Set a TFLite converter's optimisation for ``precision`` and convert, quietly. ``int8`` takes float32
    ``samples`` (one representative input each) and only INT8 kernels: a float op left behind fails."""
    if precision in ("fp16", "dynamic", "int8"):
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if precision == "fp16":
        converter.target_spec.supported_types = [tf.float16]
    if precision == "int8":
        converter.representative_dataset = lambda: ([samples[i : i + 1]] for i in range(len(samples)))
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    with contextlib.redirect_stdout(io.StringIO()):
        return converter.convert()


def write_tflite(content: bytes, path: Path) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(content)
    return path


def graph_report(path: Path) -> dict:
    """How the artifact runs under LiteRT's default XNNPACK delegate: partitions and the ops left outside.

    The interpreter lists the original nodes and one ``DELEGATE`` node per partition; a node belongs to a
    partition when it lies between that partition's inputs and outputs.
    """
    interpreter = require("ai_edge_litert.interpreter").Interpreter(model_path=str(path), num_threads=1)
    interpreter.allocate_tensors()
    ops = interpreter._get_ops_details()
    producer = {int(t): op["index"] for op in ops if op["op_name"] != "DELEGATE" for t in op["outputs"]}
    delegated: set[int] = set()
    partitions = [op for op in ops if op["op_name"] == "DELEGATE"]
    for partition in partitions:
        stop = {int(t) for t in partition["inputs"]}
        pending = [int(t) for t in partition["outputs"]]
        while pending:
            tensor = pending.pop()
            node = producer.get(tensor)
            if tensor in stop or node is None or node in delegated:
                continue
            delegated.add(node)
            pending.extend(int(t) for t in ops[node]["inputs"] if t >= 0)
    nodes = [op for op in ops if op["op_name"] != "DELEGATE"]
    outside = collections.Counter(op["op_name"] for op in nodes if op["index"] not in delegated)
    return {
        "ops": len(nodes),
        "xnnpack_partitions": len(partitions),
        "ops_outside_delegate": dict(outside),
        "transpose_ops": sum(op["op_name"] == "TRANSPOSE" for op in nodes),
    }
