"""``Predictor``: an image and person boxes in, per person 2D joints, confidences and metric 3D joints out."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mhp.data.transforms import warp_patch
from mhp.errors import MhpError
from mhp.geometry import (
    apply_affine,
    bbox_crop_affine,
    invert_affine,
    process_bbox,
    root_depth_from_bbox,
    voxel_to_camera,
    voxel_to_patch,
)
from mhp.infer.boxes import centred_box, check_box
from mhp.infer.camera import Intrinsics, default_intrinsics
from mhp.infer.keypoints import MAX_COORDINATE, MIN_HEAD_ROOT_FRACTION, head_root_fraction
from mhp.runtime import SUFFIXES, load_runner
from mhp.runtime.lift import LiftRunner, normalize_keypoints
from mhp.runtime.manifest import joint_records, read_manifest
from mhp.skeleton import JointSet, get_joint_set
from mhp.util.image_file import DecodedImage

RUNTIMES = {"onnx": "onnxruntime", "tflite": "litert", "coreml": "coreml"}
LIFT_BATCH = 4096  # poses per forward pass of a lifter


@dataclass(frozen=True)
class PersonPose:
    """One person's result; every array is float64 and named by its unit."""

    box: np.ndarray  # (4,) the person box [x, y, w, h], image pixels
    crop_box: np.ndarray  # (4,) the square the model saw (box widened to 1:1 and expanded 1.25x), image pixels
    joints_img: np.ndarray  # (J, 2) image pixels
    confidence: np.ndarray  # (J,) probability of each joint's most likely voxel
    joints_rel_mm: np.ndarray  # (J, 3) camera axes, relative to the root joint
    joints_cam_mm: np.ndarray  # (J, 3) camera space
    root_depth_mm: float
    root_depth_source: str  # "given" or "k-value: box size and focal length"
    crop_rotation_deg: float = 0.0  # the crop was turned by this about the crop box centre (clockwise on screen)
    region: np.ndarray | None = None  # (4,) the person detector's region (unclipped), when it found the person

    def to_dict(self) -> dict[str, Any]:
        return {
            "box_xywh_px": self.box.round(2).tolist(),
            "crop_box_xywh_px": self.crop_box.round(2).tolist(),
            "crop_rotation_deg": round(self.crop_rotation_deg, 2),
            "joints_img_px": self.joints_img.round(2).tolist(),
            "confidence": self.confidence.round(4).tolist(),
            "joints_rel_mm": self.joints_rel_mm.round(1).tolist(),
            "joints_cam_mm": self.joints_cam_mm.round(1).tolist(),
            "root_depth_mm": round(self.root_depth_mm, 1),
            "root_depth_source": self.root_depth_source,
        } | ({} if self.region is None else {"region_xywh_px": self.region.round(2).tolist()})


@dataclass(frozen=True)
class Lifter:
    """A 2D->3D lifter behind a Predictor: its joint set, how its input is normalised, and its runner."""

    joint_set: JointSet
    root: int
    head: int
    root_distance: float  # c of the normalisation
    runner: LiftRunner


class Predictor:
    """Runs an exported artifact (``.tflite``, ``.onnx``, ``.mlpackage``; manifest beside it) or a PyTorch
    checkpoint on person crops cut exactly as in evaluation, and maps the output back to the image and camera.

    Built from a ``LIFT_MLP`` checkpoint or lifter artifact it is a 2D->3D lifter instead: :meth:`lift` takes 2D
    keypoints, and ``lifter`` holds its runner and input normalisation (None for image models)."""

    def __init__(self, model: str | Path, *, runtime: str | None = None, threads: int = 1) -> None:
        path = Path(model)
        if not path.exists():
            raise MhpError(f"{path} does not exist; pass an artifact written by mhp-export or a checkpoint")
        self.lifter: Lifter | None = None
        self.gate = "checkpoint (no export gate)"  # an artifact's: its manifest's parity status
        if path.suffix in SUFFIXES:
            expected = RUNTIMES[SUFFIXES[path.suffix]]
            if runtime not in (None, expected):
                raise MhpError(f"{path.name} runs on {expected}, not {runtime}; drop --runtime or pick another file")
            manifest = read_manifest(path)
            self.gate = str(manifest.parity.get("status", "not run"))
            if manifest.parity.get("passed") is False:
                failures = manifest.parity.get("failures") or ["see its manifest"]
                self.gate = f"FAILED: {failures[0]}"
            if manifest.task == "lift":
                norm = manifest.input["normalization"]
                runner = load_runner(path, threads=threads, manifest=manifest)
                joint_set = get_joint_set(manifest.joints["set"])
                self.lifter = Lifter(joint_set, norm["root_index"], norm["head_index"], norm["c"], runner)
                self.joints, self.root, self.name = manifest.joints, joint_set.root, runner.name
                return
            self.runner = load_runner(path, threads=threads, manifest=manifest)
            self.joints, self.geometry = self.runner.manifest.joints, self.runner.manifest.geometry
        else:
            if runtime not in (None, "torch"):
                raise MhpError(f"{path.name} is a PyTorch checkpoint: it runs on torch, not {runtime}")
            from mhp.models import model_task
            from mhp.models.checkpoint import load_checkpoint
            from mhp.models.runner import TorchLiftRunner, TorchRunner
            from mhp.runtime.manifest import model_records

            network = load_checkpoint(path)
            if model_task(network.model_name) == "lift":
                runner = TorchLiftRunner(network, batch_size=LIFT_BATCH)
                self.lifter = Lifter(network.joint_set, network.root, network.head, network.root_distance, runner)
                self.joints, self.root, self.name = joint_records(network.joint_set), network.root, runner.name
                return
            self.runner = TorchRunner(network)
            self.joints, self.geometry = model_records(network)
        self.input_size = int(self.geometry["input_size"])
        self.root = int(self.joints["root"])
        self.name = self.runner.name

    def lift(self, keypoints: np.ndarray) -> np.ndarray:
        """``(N, J, 2)`` 2D joints in the lifter's joint order (pixels, or any unit: each pose is scaled by its
        head-root distance) -> ``(N, J, 3)`` root-relative 3D joints in mm (camera axes), float64.

        Other joint sets: :func:`mhp.infer.keypoints.read_keypoints` remaps a keypoint file by joint name."""
        if self.lifter is None:
            raise MhpError(f"{self.name} is an image pose model: call predict(image); lift() needs a lifter")
        joint_set = self.lifter.joint_set
        shape = (joint_set.num_joints, 2)
        try:
            keypoints = np.asarray(keypoints, dtype=np.float64)
        except (TypeError, ValueError):
            raise MhpError(f"lift() takes 2D joints as numbers, an array (N, {shape[0]}, 2)") from None
        if keypoints.ndim != 3 or keypoints.shape[1:] != shape:
            raise MhpError(
                f"lift() takes (N, {shape[0]}, 2) joints in the {joint_set.name} order "
                f"({', '.join(joint_set.joints)}), got {keypoints.shape}; mhp.infer.keypoints remaps other sets"
            )
        if not (np.abs(keypoints) <= MAX_COORDINATE).all():
            raise MhpError(f"lift() takes finite 2D joints within ±{MAX_COORDINATE:g}; some are NaN, infinite or more")
        scalable = head_root_fraction(keypoints, self.lifter.root, self.lifter.head) > MIN_HEAD_ROOT_FRACTION
        if not scalable.all():
            bad, head = int(np.flatnonzero(~scalable)[0]), joint_set.joints[self.lifter.head]
            raise MhpError(f"pose {bad} has its {head} on its {joint_set.root_name}: it cannot be scaled to be lifted")
        if len(keypoints) == 0:
            return np.zeros((0, shape[0], 3))
        uv = normalize_keypoints(keypoints, self.lifter.root, self.lifter.head, self.lifter.root_distance)
        return self.lifter.runner(uv).astype(np.float64)

    def images_only(self) -> None:
        if self.lifter is not None:
            raise MhpError(
                f"{self.name} is a 2D->3D lifter: it takes 2D keypoints, not images; call lift(keypoints) "
                "(mhp-infer --keypoints FILE.json)"
            )

    def crop(
        self, image: np.ndarray | DecodedImage, box: np.ndarray, rotation_deg: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The model's input for one person: RGB ``(S, S, 3)`` uint8, the image->crop affine, the crop box; the
        box, the affine and the crop box are in original image pixels. ``rotation_deg`` turns the crop about the
        box centre (clockwise on screen) so that a person leaning by that angle stands upright in it."""
        self.images_only()
        image = image if isinstance(image, DecodedImage) else DecodedImage.whole(image)
        width, height = image.width, image.height
        crop_box = process_bbox(check_box(box, width, height), width, height)
        if crop_box is None or min(crop_box[2:]) <= 0:
            raise MhpError(
                f"box {np.asarray(box).tolist()} covers less than 2 pixels of the {width}x{height} image"
                " in both width and height"
            )
        size = self.input_size
        affine = bbox_crop_affine(crop_box, (size, size), rotation_deg=rotation_deg)
        return warp_patch(image.rgb, affine, size, reduce=image.scale), affine, crop_box

    def predict(
        self,
        image: np.ndarray | DecodedImage,
        boxes: list | np.ndarray | None = None,
        intrinsics: Intrinsics | None = None,
        root_depth_mm: float | list[float] | None = None,
        rotations_deg: list[float] | None = None,
    ) -> list[PersonPose]:
        """One :class:`PersonPose` per box (default: one centred box) of an RGB uint8 ``(H, W, 3)`` image.

        Root depth: ``root_depth_mm`` when given (one value, or one per box), else RootNet's k-value from the
        crop box and the focal length (the depth at which a 2 m x 2 m area fills the box). ``rotations_deg`` (one
        per box) cuts each crop turned by its person's lean; joints come back in the image, 3D in the camera's axes.
        Intrinsics default to a 65 degree field of view across the longer side, principal point at the centre. A
        :class:`~mhp.util.image_file.DecodedImage` read at reduced scale takes boxes and intrinsics in its
        original pixels and gives its results in them.
        """
        self.images_only()
        image = check_decoded(image)
        width, height = image.width, image.height
        if intrinsics is not None and not isinstance(intrinsics, Intrinsics):
            raise MhpError(f"intrinsics must be an mhp.infer.camera.Intrinsics, got {type(intrinsics).__name__}")
        intrinsics = intrinsics or default_intrinsics(width, height)
        boxes = [centred_box(width, height)] if boxes is None else box_list(boxes)
        if not boxes:
            return []
        turns = [0.0] * len(boxes) if rotations_deg is None else [float(r) for r in rotations_deg]
        if len(turns) != len(boxes) or not all(np.isfinite(turns)):
            raise MhpError(f"rotations_deg needs one finite angle per box ({len(boxes)}), got {rotations_deg!r}")
        crops = [self.crop(image, np.asarray(b, np.float64), r) for b, r in zip(boxes, turns, strict=True)]
        pixels = np.stack([c[0] for c in crops]).transpose(0, 3, 1, 2).astype(np.float32)
        outputs = self.runner.pose(pixels)
        depths = self.root_depths(root_depth_mm, [c[2] for c in crops], intrinsics)
        return [
            self.person(box, crop, coords, confidence, depth, source, intrinsics, turn)
            for box, crop, coords, confidence, (depth, source), turn in zip(
                boxes, crops, outputs["coords"], outputs["confidence"], depths, turns, strict=True
            )
        ]

    def root_depths(self, given, crop_boxes: list[np.ndarray], intrinsics: Intrinsics) -> list[tuple[float, str]]:
        if given is None:
            source = "k-value: box size and focal length"
            return [(root_depth_from_bbox(b, intrinsics.focal), source) for b in crop_boxes]
        try:
            values = np.asarray(given, np.float64).reshape(-1)
        except (TypeError, ValueError):
            values = np.array([np.nan])
        values = np.repeat(values, len(crop_boxes)) if len(values) == 1 else values
        if len(values) != len(crop_boxes) or not (np.isfinite(values) & (values > 0)).all():
            count = len(crop_boxes)
            raise MhpError(f"root_depth_mm {given!r} must be one positive value (mm) or one per box ({count})")
        return [(float(v), "given") for v in values]

    def person(self, box, crop, coords, confidence, depth, source, intrinsics: Intrinsics, turn: float) -> PersonPose:
        _, affine, crop_box = crop
        heatmap = tuple(self.geometry["heatmap_size"])
        bins, depth_range = int(self.geometry["depth_bins"]), float(self.geometry["depth_range_mm"])
        patch = (self.input_size, self.input_size)
        joints_patch = voxel_to_patch(coords, heatmap, bins, patch, depth_range)
        joints_img = apply_affine(joints_patch, invert_affine(affine))[:, :2]
        joints_cam = voxel_to_camera(
            coords,
            crop=affine,
            root_depth_mm=depth,
            focal=np.asarray(intrinsics.focal),
            principal=np.asarray(intrinsics.principal),
            heatmap_size=heatmap,
            depth_bins=bins,
            patch_size=patch,
            depth_range_mm=depth_range,
        )
        return PersonPose(
            box=np.asarray(box, np.float64),
            crop_box=crop_box,
            joints_img=joints_img,
            confidence=np.asarray(confidence, np.float64),
            joints_rel_mm=joints_cam - joints_cam[self.root],
            joints_cam_mm=joints_cam,
            root_depth_mm=float(depth),
            root_depth_source=source,
            crop_rotation_deg=turn,
        )


def check_image(image: np.ndarray) -> np.ndarray:
    """``image`` when it is RGB uint8 ``(H, W, 3)`` of at least 2x2 pixels; else a one-line error saying why.

    Only uint8 is accepted: floats have no one scale (0-1 or 0-255) and may hold NaN; convert them yourself.
    """
    image = np.asarray(image)
    expected = "expected an RGB uint8 image (H, W, 3)"
    if image.dtype != np.uint8:
        fix = "; floats in [0, 1]: (image * 255).round().astype(np.uint8)" if image.dtype.kind == "f" else ""
        raise MhpError(f"{expected}, got {image.dtype} {image.shape}{fix}")
    if image.ndim != 3 or image.shape[2] != 3:
        fix = {2: "; grey-scale: np.stack([image] * 3, axis=-1)"}.get(image.ndim, "")
        fix = "; drop alpha: image[..., :3]" if image.ndim == 3 and image.shape[2] == 4 else fix
        raise MhpError(f"{expected}, got {image.dtype} {image.shape}{fix}")
    if min(image.shape[:2]) < 2:
        raise MhpError(f"the image is {image.shape[1]}x{image.shape[0]} pixels; the pose model needs at least 2x2")
    return np.ascontiguousarray(image)


def box_list(boxes) -> list:
    """``boxes`` as a list of boxes; a lone ``[x, y, w, h]`` or a non-sequence is a one-line error."""
    try:
        boxes = list(boxes)
    except TypeError:
        boxes = None
    if boxes is None or (boxes and all(np.isscalar(b) for b in boxes)):
        raise MhpError("boxes must be a list of [x, y, w, h] in pixels, one per person, e.g. [[x, y, w, h]]")
    return boxes


def check_decoded(image: np.ndarray | DecodedImage) -> DecodedImage:
    if isinstance(image, DecodedImage):
        check_image(image.rgb)
        return image
    return DecodedImage.whole(check_image(image))


def warn_failed_gate(model: str, gate: str) -> None:
    """Say loudly, before any result, that the artifact failed its parity gate at export."""
    if gate.startswith("FAILED"):
        print(
            f"warning: {model} {gate.replace('FAILED: ', 'FAILED its parity gate at export: ')}; its poses may be "
            "wrong: export a better-trained checkpoint, or re-check it with mhp-export --check",
            file=sys.stderr,
        )
