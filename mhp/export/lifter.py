"""``mhp-export`` for 2D→3D lifters (``LIFT_MLP``): the export graph, the manifest contract, calibration and
parity data, and the ONNX / TFLite / CoreML conversions.

Every lifter artifact takes ``keypoints`` ``(batch or 1, J, 2)`` float32, the output of
:meth:`LiftingModel.normalize` (the manifest records the formula, so an app can apply it), and returns ``pose``
``(…, J, 3)`` float32 root-relative mm. Full-INT8 TFLite keeps float32 input and output (the converter adds one
QUANTIZE and one DEQUANTIZE) so an app never quantises coordinates; everything between runs in int8.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_linear_bn_eval

from mhp.data.holdout import describe_slice
from mhp.data.lift_pairs import pairs_from_annotations, synthetic_pairs
from mhp.errors import MhpError
from mhp.eval.parity import LiftParitySet, Reference, lift_parity_set, normalized_keypoints, reference_outputs
from mhp.export import coreml as coreml_export
from mhp.export import tflite as tflite_export
from mhp.export.calibration import MIN_SAMPLES
from mhp.export.onnx import write_onnx
from mhp.export.sources import (
    SYNTHETIC,
    DataChoice,
    describe_part,
    evenly_spaced,
    held_out_part,
    read_train_split,
    training_part,
)
from mhp.models.lift_geometry import MIN_DEPTH
from mhp.models.runner import TorchLiftRunner
from mhp.runtime.manifest import ExportManifest, file_sha256, joint_records
from mhp.util.optional import require

INPUT_NAME = "keypoints"
OUTPUT_NAME = "pose"
FORMULA = "uv = (p - p[root]) / (c * |p[head] - p[root]|)"


class LiftExportModule(nn.Module):
    """``uv (N, J, 2)`` -> ``pose (N, J, 3)`` root-relative mm: :class:`LiftingModel` rewritten for export.

    Each BatchNorm is folded into the linear layer before it and dropout dropped, so the graph is linear + ReLU
    only (every converter fuses it; INT8 quantises one tensor per layer). A ``depth`` lifter's rebuild is written
    root-relative: ``Z - Z_root = dz`` and ``X - X_root = z_root u - z_root u_root + u dz`` with
    ``dz = max(d - d_root + c - z_root, MIN_DEPTH - z_root)`` and ``z_root = max(c, MIN_DEPTH)``: the function of
    :func:`lift_to_camera` minus its root, without the absolute depths near ``c`` that full INT8 quantises in
    ~50 mm steps (128-wide depth lifter, mean difference to torch: 34 mm that way, 15 mm this way).
    """

    def __init__(self, model) -> None:
        super().__init__()
        self.net = copy.deepcopy(model.net).eval()
        mlp = self.net.mlp
        mlp.stem = folded(mlp.stem)
        for block in mlp.blocks:
            block.layers = folded(block.layers)
        self.output, self.root, self.unit_mm = model.output, model.root, model.unit_mm
        self.z_root = max(model.root_distance, MIN_DEPTH)
        self.offset = model.root_distance - self.z_root
        self.eval()

    def forward(self, uv: torch.Tensor) -> torch.Tensor:
        out = self.net(uv)
        root = self.root
        if self.output == "xyz":
            return (out - out[:, root : root + 1]) * self.unit_mm
        relative = out - out[:, root : root + 1]
        if self.offset:  # c < MIN_DEPTH: the root itself is clamped
            relative = relative + self.offset
        dz = torch.clamp(relative, min=MIN_DEPTH - self.z_root)[..., None]
        scaled = uv * self.z_root  # scaled first: INT8 then subtracts the root at the output's own resolution
        xy = scaled - scaled[:, root : root + 1] + uv * dz
        return torch.cat([xy, dz], dim=-1) * self.unit_mm


def export_graph(model) -> LiftExportModule:
    """The module every lifter artifact is converted from (same outputs as ``model`` to float rounding)."""
    return LiftExportModule(model)


def folded(layers: nn.Sequential) -> nn.Sequential:
    kept: list[nn.Module] = []
    for module in layers:
        if isinstance(module, nn.BatchNorm1d) and kept and isinstance(kept[-1], nn.Linear):
            kept[-1] = fuse_linear_bn_eval(kept[-1], module)
        elif not isinstance(module, nn.Dropout):
            kept.append(module)
    return nn.Sequential(*kept)


def input_record(model, shape: list) -> dict[str, Any]:
    """The ``keypoints`` input: 2D joints normalised on the host exactly as :meth:`LiftingModel.normalize` does."""
    names = model.joint_set.joints
    return {
        "name": INPUT_NAME,
        "shape": shape,
        "layout": "NJC: pose, joint (manifest joint order), (x, y)",
        "dtype": "float32",
        "normalization": {
            "inside_graph": False,
            "formula": FORMULA,
            "p": "2D joints (N, J, 2) in image pixels (any unit: the formula cancels it)",
            "root_joint": names[model.root],
            "root_index": model.root,
            "head_joint": names[model.head],
            "head_index": model.head,
            "c": model.root_distance,
            "invalid": "a pose whose head lies on its root cannot be normalised (division by zero)",
        },
    }


def lift_manifest(
    model, checkpoint: str, fmt: str, precision: str, artifact: Path, tools: dict[str, str]
) -> ExportManifest:
    """The manifest of one lifter artifact (``task: lift``); parity, calibration and graph are added later."""
    joints = model.num_joints
    batch = "batch" if fmt == "onnx" else 1
    units = "root-relative mm, camera axes (x right, y down, z away from the camera); root joint = 0"
    return ExportManifest(
        artifact=artifact.name,
        format=fmt,
        precision=precision,
        model=model.model_name,
        model_kwargs=dict(model.model_kwargs),
        input=input_record(model, [batch, joints, 2]),
        outputs=[{"name": OUTPUT_NAME, "shape": [batch, joints, 3], "dtype": "float32", "units": units}],
        decode="in_graph",
        joints=joint_records(model.joint_set),
        geometry={"output": model.output, "unit_mm": model.unit_mm, "root_distance": model.root_distance},
        source_checkpoint={"path": str(checkpoint), "sha256": file_sha256(checkpoint)},
        tools=tools,
        task="lift",
    )


@dataclass(frozen=True)
class LiftCalibration:
    """Normalised 2D poses ``(N, J, 2)`` float32 that set the INT8 activation ranges."""

    keypoints: np.ndarray
    id: str
    source: str
    description: str = ""  # what the poses are and why they were chosen, in words

    def record(self) -> dict[str, Any]:
        digest = hashlib.sha256(np.ascontiguousarray(self.keypoints).tobytes()).hexdigest()
        return {
            "id": self.id,
            "source": self.source,
            "description": self.description,
            "samples": len(self.keypoints),
            "sha256": digest,
        }


def lift_calibration(
    choice: DataChoice, model, config: dict[str, Any], count: int, tables: dict | None = None
) -> LiftCalibration:
    """Normalised 2D poses of ``choice``: a dataset's training poses evenly spaced (those with every joint), or
    the first ``count`` synthetic poses of the checkpoint's training seed."""
    if choice.kind == "folder":
        raise MhpError(
            f"--calib-data {choice.root} holds images; a lifter calibrates on 2D poses: pass --calib-data NAME=ROOT "
            "(a dataset's poses), --calib-data synthetic, or drop --calib-data (the checkpoint's training data)"
        )
    if count < MIN_SAMPLES:
        raise MhpError(f"--calib-samples {count} is too few for stable INT8 ranges; use {MIN_SAMPLES}+")
    if choice.kind == SYNTHETIC:
        seed = int(config.get("seed", 0))
        pairs = synthetic_pairs(count, seed, model.joint_set)
        keypoints = normalized_keypoints(model, pairs.joints_2d)
        what = f"synthetic 2D poses (seed {seed}); {choice.origin}"
        return LiftCalibration(keypoints, f"synthetic-pairs-seed{seed}-n{count}", "synthetic 2D poses", what)
    table = training_part(read_train_split(choice, config, tables))
    pairs = pairs_from_annotations(table, model.joint_set).complete()
    picks = evenly_spaced(len(pairs), count)
    if len(picks) < MIN_SAMPLES:
        raise MhpError(
            f"{choice.name} {choice.root} gives {len(picks)} {model.joint_set.name} poses with every joint; INT8 "
            f"calibration needs at least {MIN_SAMPLES}: pass --calib with more data, or --calib synthetic"
        )
    keypoints = normalized_keypoints(model, pairs.joints_2d[picks])
    what = f"{describe_part(table)}, {len(picks)} of {len(pairs)} 2D poses; {choice.origin}"
    source = f"{choice.name}={choice.root}"
    return LiftCalibration(keypoints, f"{table.name}-{table.split}-poses-n{len(picks)}", source, what)


def lift_parity_data(
    choice: DataChoice, model, config: dict[str, Any], samples: int, tables: dict | None = None
) -> LiftParitySet:
    """Held-out poses with 3D ground truth: a dataset's held-out validation slice, or synthetic people."""
    if choice.kind == SYNTHETIC:
        data = lift_parity_set(model, samples)
        return replace(data, label=f"{data.label}; {choice.origin}")
    if samples < 1:
        raise MhpError("--parity-samples must be at least 1")
    val = held_out_part(read_train_split(choice, config, tables))
    pairs = pairs_from_annotations(val, model.joint_set).complete()
    picks = evenly_spaced(len(pairs), samples)
    if len(picks) == 0:
        raise MhpError(
            f"{choice.name} {choice.root}: no held-out pose has every {model.joint_set.name} joint; "
            "pass --parity-data synthetic"
        )
    label = f"{val.name} {describe_slice(val)}, {len(picks)} of {len(pairs)} poses; {choice.origin}"
    uv = normalized_keypoints(model, pairs.joints_2d[picks])
    return LiftParitySet(uv, pairs.joints_3d[picks], model.joint_set, label)


def lift_parity_inputs(
    choice: DataChoice, model, config: dict[str, Any], samples: int, tables: dict | None = None
) -> tuple[LiftParitySet, Reference]:
    """Held-out poses (:func:`lift_parity_data`) and the float32 torch lifter's poses on them."""
    data = lift_parity_data(choice, model, config, samples, tables)
    return data, reference_outputs(TorchLiftRunner(model), data)


def write_lift_artifact(
    model,
    checkpoint: str,
    fmt,
    precision: str,
    path: Path,
    calibration: LiftCalibration | None,
    work: Path,
    cache: dict[str, Path],
    *,
    tools: dict[str, str],
) -> ExportManifest:
    """Convert and write one lifter artifact; returns its manifest (parity not yet run). ``cache`` keeps the
    SavedModel that every TFLite precision is converted from."""
    manifest = lift_manifest(model, checkpoint, fmt.name, precision, path, tools)
    metadata = {
        "description": f"mhp {model.model_name} 2D->3D lifter, {precision} {fmt.name}",
        "mhp_manifest": json.dumps({k: manifest.to_dict()[k] for k in ("joints", "geometry", "input", "task")}),
    }
    graph, example = export_graph(model), torch.zeros(1, model.num_joints, 2)
    names = {"input_name": INPUT_NAME, "output_names": [OUTPUT_NAME]}
    if fmt.name == "onnx":
        write_onnx(graph, example, path, dynamic_batch=True, metadata=metadata, **names)
        return manifest
    if fmt.name == "coreml":
        export_coreml_lifter(graph, example, path, precision, metadata=metadata)
        return manifest
    if "lift_saved_model" not in cache:
        static = write_onnx(graph, example, work / "lifter.onnx", dynamic_batch=False, metadata={}, **names)
        cache["lift_saved_model"] = tflite_export.onnx_to_saved_model(
            static, work / "onnx2tf", keep_shape=(INPUT_NAME,)
        )
    keypoints = calibration.keypoints if calibration is not None and precision == "int8" else None
    tflite_export.write_tflite(convert_lifter(cache["lift_saved_model"], precision, model.num_joints, keypoints), path)
    manifest = replace(manifest, graph=tflite_export.graph_report(path))
    return replace(manifest, calibration=calibration.record()) if precision == "int8" else manifest


def convert_lifter(saved_model: Path, precision: str, num_joints: int, calibration: np.ndarray | None) -> bytes:
    """One TFLite flatbuffer with float32 ``keypoints`` in and ``pose`` out at every precision.

    ``int8``: Optimize.DEFAULT with the calibration poses and only TFLITE_BUILTINS_INT8 kernels (the conversion
    fails rather than leave a float op behind); the input and output types stay float32, so the graph is
    QUANTIZE -> int8 fully-connected layers -> DEQUANTIZE.
    """
    if precision not in tflite_export.PRECISIONS:
        raise MhpError(f"unknown TFLite precision {precision!r}; choose one of {', '.join(tflite_export.PRECISIONS)}")
    tf = require("tensorflow")
    loaded = tf.saved_model.load(str(saved_model))
    network = loaded.signatures["serving_default"]
    (input_key,) = network.structured_input_signature[1]

    @tf.function(input_signature=[tf.TensorSpec((1, num_joints, 2), tf.float32, name=INPUT_NAME)])
    def graph(keypoints):
        return {OUTPUT_NAME: next(iter(network(**{input_key: keypoints}).values()))}

    converter = tf.lite.TFLiteConverter.from_concrete_functions([graph.get_concrete_function()], loaded)
    if precision == "int8" and (calibration is None or len(calibration) == 0):
        raise MhpError("full INT8 needs calibration poses; pass --calib NAME=ROOT or synthetic")
    samples = calibration.astype(np.float32) if precision == "int8" else None
    return tflite_export.convert_at_precision(tf, converter, precision, samples)


def export_coreml_lifter(
    graph: nn.Module, example: torch.Tensor, path: Path, precision: str, *, metadata: dict[str, str]
) -> Path:
    """An ``.mlpackage`` with a ``keypoints`` tensor input and a ``pose`` output (fp32, fp16, INT8 weights)."""
    if precision not in coreml_export.PRECISIONS:
        raise MhpError(f"unknown CoreML precision {precision!r}; choose one of {', '.join(coreml_export.PRECISIONS)}")
    ct = require("coremltools")
    with warnings.catch_warnings(), torch.no_grad(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")  # untested-version notices and progress bars
        program = torch.export.export(graph, (example,)).run_decompositions({})
        mlmodel = ct.convert(
            program,
            inputs=[ct.TensorType(name=INPUT_NAME, shape=tuple(example.shape))],
            outputs=[ct.TensorType(name=OUTPUT_NAME)],
            convert_to="mlprogram",
            compute_precision=ct.precision.FLOAT32 if precision == "fp32" else ct.precision.FLOAT16,
            minimum_deployment_target=ct.target.iOS16,
        )
        if precision == "int8":
            mlmodel = coreml_export.int8_weights(ct, mlmodel)
    inputs = {INPUT_NAME: f"(1, J, 2) 2D joints normalised as {FORMULA}"}
    outputs = {OUTPUT_NAME: "(1, J, 3) root-relative 3D joints in mm"}
    return coreml_export.save_described(mlmodel, path, metadata, inputs, outputs)
