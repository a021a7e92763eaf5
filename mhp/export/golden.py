"""Golden files: the decoding contract between Python and the Kotlin / Swift app decoders (demo-apps.md), and
(``detector/``, :mod:`mhp.export.golden_detector`) the person detector's and the multi-person tracker's.

Python owns the reference. Each case holds a raw little-endian model output (``output.f32`` or ``output.i8``,
NHWC ``(1, H, W, J*D)`` with channel ``j*D + d``, as TFLite emits it) and ``expected.json`` with every stage
an app computes: voxel coordinates, confidences and argmax voxels, joints in crop pixels, in original-image
pixels through the case's crop box, and root-relative camera millimetres for the case's camera and root depth.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mhp.errors import MhpError
from mhp.export.golden_detector import write_detector_golden
from mhp.geometry import (
    DEPTH_RANGE_MM,
    apply_affine,
    bbox_crop_affine,
    invert_affine,
    process_bbox,
    root_depth_from_bbox,
    voxel_to_camera,
    voxel_to_patch,
)
from mhp.infer.boxes import BoxTracker
from mhp.infer.camera import default_intrinsics
from mhp.runtime.decode import soft_argmax_nhwc
from mhp.skeleton import H36M
from mhp.util.fileio import atomic_path, write_json

VERSION = 1
JOINTS, DEPTH, HEIGHT, WIDTH, INPUT = 18, 8, 16, 16, 128  # small enough to commit
TOLERANCES = {"coords_voxel": 1e-4, "confidence": 1e-5, "joints_px": 1e-3, "joints_mm": 1e-2}
DEFAULT_CAMERA = {"image_size": [640, 480], "box": [220.0, 60.0, 180.0, 360.0], "focal": [600.0, 600.0]}
# Non-square heatmaps and another depth, so a decoder or crop maths that swaps H and W, or assumes D = 8, fails
ODD_DEPTH, ODD_HEIGHT, ODD_WIDTH = 6, 12, 20
# A portrait frame with a tall thin person box (the default focal length must span the long side, here the height)
PORTRAIT_CAMERA = {"image_size": [480, 640], "box": [150.0, 170.0, 90.0, 300.0], "focal": [520.0, 500.0]}


def blob_logits(rng: np.random.Generator, joints: int, depth: int, height: int, width: int) -> np.ndarray:
    """One Gaussian blob per joint at a random sub-voxel centre, NHWC logits."""
    centres = rng.uniform([0, 0, 0], [width - 1, height - 1, depth - 1], size=(joints, 3))[:, :, None, None, None]
    y, x, z = np.meshgrid(np.arange(height), np.arange(width), np.arange(depth), indexing="ij")  # (H, W, D)
    distance = (x - centres[:, 0]) ** 2 + (y - centres[:, 1]) ** 2 + (z - centres[:, 2]) ** 2  # (J, H, W, D)
    logits = 6.0 - distance / 2.0
    return logits.transpose(1, 2, 0, 3).reshape(1, height, width, joints * depth).astype(np.float32)


def cases(rng: np.random.Generator) -> dict[str, dict[str, Any]]:
    """name -> {"logits" (float32 NHWC) or "quantised" + "scale"/"zero_point", "camera": ...}."""
    shape = (1, HEIGHT, WIDTH, JOINTS * DEPTH)
    border = np.full(shape, -20.0, np.float32)
    volume = border.reshape(1, HEIGHT, WIDTH, JOINTS, DEPTH)
    volume[0, 0, 0, :, 0] = 20.0  # every joint peaks on the first corner voxel
    volume[0, HEIGHT - 1, WIDTH - 1, 1, DEPTH - 1] = 25.0  # joint 1 on the opposite corner
    extreme = rng.uniform(-1e4, 1e4, shape).astype(np.float32)
    quantised = rng.integers(-128, 128, shape, dtype=np.int64).astype(np.int8)
    off_centre = {"image_size": [1280, 720], "box": [900.0, 300.0, 150.0, 400.0], "focal": [1000.0, 980.0]}
    return {
        "blobs": {"logits": blob_logits(rng, JOINTS, DEPTH, HEIGHT, WIDTH)},
        "border_peak": {"logits": border},
        "flat": {"logits": np.zeros(shape, np.float32)},
        "extreme_logits": {"logits": extreme},
        "int8_zero_point": {"quantised": quantised, "scale": 0.0625, "zero_point": -17},
        "off_centre_crop": {"logits": blob_logits(rng, JOINTS, DEPTH, HEIGHT, WIDTH), "camera": off_centre},
        "non_square_blobs": {
            "logits": blob_logits(rng, JOINTS, ODD_DEPTH, ODD_HEIGHT, ODD_WIDTH),
            "camera": PORTRAIT_CAMERA,
            "depth_bins": ODD_DEPTH,
        },
        "non_square_corners": {"logits": corner_logits(), "depth_bins": ODD_DEPTH},
    }


def corner_logits() -> np.ndarray:
    """Non-square heatmaps whose joints peak on different corners (x, y and z told apart): an H/W swap moves them."""
    volume = np.full((1, ODD_HEIGHT, ODD_WIDTH, JOINTS, ODD_DEPTH), -20.0, np.float32)
    corners = [(0, 0, 0), (0, ODD_WIDTH - 1, 0), (ODD_HEIGHT - 1, 0, ODD_DEPTH - 1), (ODD_HEIGHT - 1, ODD_WIDTH - 1, 2)]
    for joint in range(JOINTS):
        y, x, d = corners[joint % len(corners)]
        volume[0, y, x, joint, d] = 20.0 + joint  # one peak per joint
        volume[0, (y + 3) % ODD_HEIGHT, (x + 5) % ODD_WIDTH, joint, (d + 1) % ODD_DEPTH] = 18.0 + joint  # a runner-up
    return volume.reshape(1, ODD_HEIGHT, ODD_WIDTH, JOINTS * ODD_DEPTH)


def expected(heatmaps: np.ndarray, camera: dict[str, Any], *, input_size: int, depth_bins: int, scale: float = 1.0):
    """Every stage of the decode, for one NHWC output (float logits, or int8 with ``scale``)."""
    joints = heatmaps.shape[-1] // depth_bins
    coords, confidence = soft_argmax_nhwc(heatmaps, joints, depth_bins, scale=scale)
    height, width = heatmaps.shape[1:3]
    volume = heatmaps.reshape(height, width, joints, depth_bins).transpose(2, 0, 1, 3).reshape(joints, -1)
    hy, wx, dz = np.unravel_index(volume.argmax(axis=1), (height, width, depth_bins))
    image_w, image_h = camera["image_size"]
    crop_box = process_bbox(camera["box"], image_w, image_h)
    affine = bbox_crop_affine(crop_box, (input_size, input_size))
    patch = voxel_to_patch(coords[0], (width, height), depth_bins, (input_size, input_size))
    root_depth = camera.get("root_depth_mm", 5000.0)
    cam = voxel_to_camera(
        coords[0],
        crop=affine,
        root_depth_mm=root_depth,
        focal=np.asarray(camera["focal"]),
        principal=np.array([image_w / 2.0, image_h / 2.0]),
        heatmap_size=(width, height),
        depth_bins=depth_bins,
        patch_size=(input_size, input_size),
    )
    return {
        "coords_voxel": coords[0].tolist(),
        "confidence": confidence[0].tolist(),
        "argmax_voxel": np.stack([wx, hy, dz], axis=1).tolist(),
        "joints_crop_px": patch[:, :2].tolist(),
        "joints_image_px": apply_affine(patch, invert_affine(affine))[:, :2].tolist(),
        "joints_rel_mm": (cam - cam[H36M.root]).tolist(),
        "camera": {
            "image_size_px": [image_w, image_h],
            "box_xywh_px": list(camera["box"]),
            "crop_box_xywh_px": crop_box.tolist(),
            "image_to_crop_affine": affine.tolist(),
            "focal_px": list(camera["focal"]),
            "principal_px": [image_w / 2.0, image_h / 2.0],
            "root_depth_mm": root_depth,
            "root_depth_k_mm": root_depth_from_bbox(crop_box, tuple(camera["focal"])),
            "default_focal_px": list(default_intrinsics(image_w, image_h).focal),
        },
    }


def tracking(rng: np.random.Generator, width: int = 640, height: int = 480) -> dict[str, Any]:
    """A person walking right, a confidence drop and a pose outside the frame, with the tracker's box after each."""
    tracker = BoxTracker(width, height)
    steps = [{"box_before_xywh_px": tracker.box.tolist()}]
    body = rng.uniform([-60, -150], [60, 150], size=(JOINTS, 2))
    centres = [*((250.0 + 12 * t, 240.0) for t in range(4)), (300.0, 240.0), (2000.0, 240.0), (320.0, 250.0)]
    confidences = (0.4, 0.4, 0.4, 0.4, 0.01, 0.5, 0.3)  # walking right, a drop, outside the frame, back
    for centre, confidence in zip(centres, confidences, strict=True):
        joints = body + np.array(centre)
        per_joint = np.full(JOINTS, confidence) * rng.uniform(0.5, 1.5, JOINTS)
        reset = tracker.update(joints, per_joint)
        steps[-1].update(joints_img_px=joints.tolist(), confidence=per_joint.tolist())
        steps.append({"reset": reset, "box_before_xywh_px": tracker.box.tolist()})
    return {"image_size_px": [width, height], "min_confidence": tracker.min_confidence, "steps": steps}


def write_bytes(path: Path, array: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes())


def write_case(folder: Path, name: str, case: dict[str, Any], input_size: int, depth_bins: int) -> dict[str, Any]:
    camera = case.get("camera", DEFAULT_CAMERA)
    own_depth = case.get("depth_bins")  # a case with its own depth says so in the manifest (the apps read it)
    depth_bins = own_depth or depth_bins
    target = folder / name
    if "quantised" in case:
        output, scale = case["quantised"], case["scale"]
        write_bytes(target / "output.i8", output)
        result = expected(output, camera, input_size=input_size, depth_bins=depth_bins, scale=scale)
        record = {"output": "output.i8", "dtype": "int8", "scale": scale, "zero_point": case["zero_point"]}
    else:
        output = case["logits"]
        write_bytes(target / "output.f32", output)
        result = expected(output, camera, input_size=input_size, depth_bins=depth_bins)
        record = {"output": "output.f32", "dtype": "float32"}
    if "input" in case:
        write_bytes(target / "input.u8", case["input"])
        write_bytes(target / "image.u8", case["image"])
        write_json(target / "artifact_manifest.json", case["artifact_manifest"])
        record.update(input="input.u8", image="image.u8", artifact_manifest="artifact_manifest.json")
        # what the interpreter reports and the file's sha256 (hashlib): the apps' run-time checks are made with them
        record.update(input_quantization=case["input_quantization"], artifact_sha256=case["artifact_sha256"])
    write_json(target / "expected.json", result)
    own = {"depth_bins": own_depth} if own_depth else {}
    return {"name": name, "shape": list(output.shape), **own, **record, "expected": "expected.json"}


def real_case(artifact: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """A fixed synthetic crop through an exported full-INT8 ``.tflite`` (LiteRT), its raw int8 output kept."""
    from mhp.data.synthetic import SyntheticHumans
    from mhp.infer.predictor import Predictor
    from mhp.runtime.manifest import artifact_sha256, read_manifest

    manifest = read_manifest(artifact)
    if manifest.format != "tflite" or manifest.decode != "host_soft_argmax":
        raise MhpError(f"{artifact} is not a full-INT8 .tflite (heatmaps out); export one with --target tflite --int8")
    predictor = Predictor(artifact)
    scenes = SyntheticHumans(1, seed=20_211_019, image_size=(320, 240))
    record = scenes.record(0)
    image = np.ascontiguousarray(scenes.load_image(0)[..., ::-1])
    crop, _, _ = predictor.crop(image, record.bbox_raw)
    runner = predictor.runner
    raw = runner.signature(**{runner.input_name: crop[None].astype(np.uint8)})["heatmaps"]
    scale, zero_point = runner.output_details["heatmaps"]["quantization"]
    camera = {"image_size": [320, 240], "box": record.bbox_raw.tolist(), "focal": record.focal.tolist()}
    case = {
        "quantised": raw,
        "scale": float(scale),
        "zero_point": int(zero_point),
        "camera": camera,
        "input": crop,  # the model input cut from "image" (RGB, H x W x 3) with the case's crop affine
        "image": image,
        "artifact_manifest": manifest.to_dict(),
        "input_quantization": [float(runner.input_quant[0]), int(runner.input_quant[1])],  # (scale, zero point)
        "artifact_sha256": artifact_sha256(artifact),
    }
    return case, {"input_size": manifest.geometry["input_size"], "depth_bins": manifest.geometry["depth_bins"]}


def write_golden(out: str | Path, artifact: str | Path | None = None, seed: int = 0) -> Path:
    """Write every case and ``manifest.json`` under ``out``; with ``artifact`` also the real LiteRT run."""
    folder = Path(out)
    entries = [write_case(folder, n, c, INPUT, DEPTH) for n, c in cases(np.random.default_rng(seed)).items()]
    if artifact is not None:
        case, geometry = real_case(Path(artifact))
        entries.append({**write_case(folder, "real_tflite_int8", case, **geometry), **geometry})
    write_json(folder / "tracking.json", tracking(np.random.default_rng(seed + 1)))
    detector = write_detector_golden(folder / "detector").relative_to(folder)  # the person detector's scripted cases
    manifest = {
        "format_name": "mhp-golden",
        "version": VERSION,
        "joints": {"names": list(H36M.joints), "bones": [list(b) for b in H36M.bones], "root": H36M.root},
        "layout": "NHWC (1, H, W, J*D), channel j*D + d, little-endian",
        "input_size": INPUT,
        "depth_bins": DEPTH,
        "depth_range_mm": DEPTH_RANGE_MM,
        "normalization": "inside the model: feed 0-255 RGB (see the artifact's manifest)",
        "dequantise": "real = (q - zero_point) * scale; the soft-argmax may subtract each joint's peak first",
        "tolerances": TOLERANCES,
        "tracking": "tracking.json",
        "detector": detector.as_posix(),
        "cases": entries,
    }
    write_json(folder / "manifest.json", manifest)
    return folder / "manifest.json"
