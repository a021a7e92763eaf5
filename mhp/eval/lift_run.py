"""``mhp-eval`` for lifters: MPJPE, N-MPJPE and PA-MPJPE from ground-truth 2D, from an image model's 2D, next to
that image model's own 3D, the mean-pose and zero-depth baselines, and the limb plausibility of each.

Test poses: held-out synthetic people (the image model's scenes, so its 2D can be lifted too) or the Human3.6M
test split of the protocol. Every row is scored on the same poses in the lifter's joint set.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from mhp.config import EvalConfig
from mhp.data import SYNTHETIC, data_flag, read_dataset
from mhp.data.dataset import CropConfig, PoseDataset
from mhp.data.lift_pairs import PosePairs, pairs_from_annotations, synthetic_pairs
from mhp.data.synthetic import VAL_SEED_OFFSET, SyntheticHumans
from mhp.errors import MhpError
from mhp.eval.lift import lift_poses, mean_pose, score_lifted
from mhp.eval.pose import limb_scores, predict, voxels_to_camera
from mhp.geometry import apply_affine, invert_affine, voxel_to_patch
from mhp.limbs import LimbPrior, limb_prior, path_length_mm
from mhp.models import model_task
from mhp.models.checkpoint import load_checkpoint, read_checkpoint
from mhp.models.lift_geometry import lift_to_camera
from mhp.models.lifter import LiftingModel
from mhp.skeleton import JointSet, remap_joints

BASELINE_POSES = 2000  # training poses averaged into the mean-pose baseline


def test_set(cfg: EvalConfig, joint_set: JointSet) -> tuple[PosePairs, Any]:
    """The test poses (complete, with 3D) and the source their images come from."""
    dataset, root = data_flag(cfg.data, ("h36m", SYNTHETIC))
    if dataset == "h36m":
        source = read_dataset("h36m", root, "test", protocol=cfg.protocol)
        pairs = pairs_from_annotations(source, joint_set)
    else:
        size = (cfg.synthetic_image_size, cfg.synthetic_image_size)
        source = SyntheticHumans(cfg.synthetic_samples, joint_set=joint_set, seed=cfg.synthetic_seed, image_size=size)
        records = [source.record(i) for i in range(len(source))]
        cam = np.stack([r.joints_cam for r in records]).astype(np.float64)
        pairs = PosePairs(
            joint_set,
            np.stack([r.joints_img[:, :2] for r in records]).astype(np.float64),
            cam - cam[:, joint_set.root : joint_set.root + 1],
            np.ones(cam.shape[:2], bool),
        )
    if not pairs.visible.all():
        raise MhpError(f"{dataset} test poses lack joints of the lifter's {joint_set.name} set")
    return pairs, source


def image_model_keypoints(cfg: EvalConfig, source, joint_set: JointSet, device) -> tuple[np.ndarray, np.ndarray, str]:
    """The ``--keypoints-from`` image model's 2D pixels and 3D mm (root-relative) on every test sample, in the
    lifter's joint set."""
    model = load_checkpoint(cfg.keypoints_from)
    if model_task(model.model_name) != "pose" or model.joint_set is None:
        raise MhpError(f"--keypoints-from {cfg.keypoints_from} is not an image model; pass an mhp-train checkpoint")
    missing = [n for n in joint_set.joints if n not in model.joint_set.joints]
    if missing:
        raise MhpError(
            f"--keypoints-from {cfg.keypoints_from} predicts {model.joint_set.name} joints, which lack "
            f"{', '.join(missing)} of the lifter's {joint_set.name} set"
        )
    model.to(device)
    crop = CropConfig.for_model(model)
    dataset = PoseDataset(source, model.joint_set, crop, train=False)
    voxel, crops, indices = predict(model, dataset, batch_size=cfg.batch_size, device=device, workers=cfg.workers)
    order = np.argsort(indices)
    patch = voxel_to_patch(voxel, crop.heatmap_size, crop.depth_bins, (crop.patch_size, crop.patch_size))
    pixels = apply_affine(patch, invert_affine(crops))[order, :, :2]
    camera = voxels_to_camera(voxel, crops, source, indices, crop)[order]
    pixels = remap_joints(pixels, model.joint_set, joint_set)
    camera = remap_joints(camera, model.joint_set, joint_set)
    return pixels.astype(np.float64), camera - camera[:, joint_set.root : joint_set.root + 1], model.model_name


def training_mean_pose(checkpoint: str, joint_set: JointSet) -> tuple[np.ndarray | None, str]:
    """The mean-pose baseline: the lifter's synthetic training poses averaged (None for real training data)."""
    content = read_checkpoint(checkpoint)
    config = (content.get("config") if isinstance(content, dict) else None) or {}
    entries = [*config.get("data_3d", []), *config.get("data_2d", [])] or ["synthetic"]
    if any(str(e).lower() != "synthetic" for e in entries):
        return None, "not computed (the lifter trained on real data; evaluate the baseline with its 3D poses)"
    count = min(int(config.get("synthetic_samples", BASELINE_POSES)), BASELINE_POSES)
    poses = synthetic_pairs(count, int(config.get("seed", 0)), joint_set).joints_3d
    return mean_pose(poses, joint_set.root), f"mean of {count} synthetic training poses"


def zero_depth(model: LiftingModel, joints_2d: np.ndarray, prior: LimbPrior) -> np.ndarray:
    """Every joint at the root's depth (a flat pose): what a lifter adds must beat this. Its unit (about one
    root-head distance) becomes mm through ``prior``'s root-to-head path, whatever the lifter's own unit."""
    uv, _ = model.normalize(torch.as_tensor(joints_2d, dtype=torch.float32))
    flat = lift_to_camera(uv, torch.zeros(uv.shape[:2]), model.root, model.root_distance)
    unit = path_length_mm(prior, model.joint_set, model.root, model.head)
    return ((flat - flat[:, model.root : model.root + 1]) * unit).numpy().astype(np.float64)


def scored(pred: np.ndarray, gt: np.ndarray, joint_set: JointSet, prior: LimbPrior | None) -> tuple[dict, str]:
    limbs, source = limb_scores(pred, gt, joint_set, prior)
    return {**score_lifted(pred, gt, joint_set), **limbs}, source


def evaluate_lifter(cfg: EvalConfig, model: LiftingModel, prior: LimbPrior | None, device) -> dict[str, Any]:
    """The report of a lifter checkpoint: one row per input (ground-truth 2D, the image model's 2D, ...)."""
    joint_set = model.joint_set
    pairs, source = test_set(cfg, joint_set)
    if prior is None:
        prior = limb_prior(pairs.joints_3d, joint_set, source=f"measured on the {len(pairs)} ground-truth test poses")
    model.to(device)
    rows: dict[str, dict[str, float]] = {}
    lifted = lift_poses(model, pairs.joints_2d)
    rows["lifter, ground-truth 2D"], prior_source = scored(lifted, pairs.joints_3d, joint_set, prior)
    if cfg.keypoints_from:
        pixels, camera, name = image_model_keypoints(cfg, source, joint_set, device)
        rows[f"lifter, {name} 2D"] = scored(lift_poses(model, pixels), pairs.joints_3d, joint_set, prior)[0]
        rows[f"{name} image model 3D"] = scored(camera, pairs.joints_3d, joint_set, prior)[0]
    baseline, baseline_source = training_mean_pose(cfg.checkpoint, joint_set)
    if baseline is not None:
        mean = np.broadcast_to(baseline, pairs.joints_3d.shape).copy()
        rows["mean-pose baseline"] = scored(mean, pairs.joints_3d, joint_set, prior)[0]
    flat = zero_depth(model, pairs.joints_2d, prior)
    rows["zero-depth baseline"] = scored(flat, pairs.joints_3d, joint_set, prior)[0]
    metrics = dict(rows["lifter, ground-truth 2D"])
    if baseline is not None:
        metrics["baseline_mpjpe"] = rows["mean-pose baseline"]["mpjpe"]
        metrics["ratio_to_baseline"] = metrics["mpjpe"] / metrics["baseline_mpjpe"]
    return {
        "task": "lift",
        "output": model.output,
        "unit_mm": model.unit_mm,
        "samples": len(pairs),
        "primary": "mpjpe" if model.output == "xyz" else "n_mpjpe",
        "metrics": metrics,
        "per_group": rows,
        "group_label": "input",
        "baseline": baseline_source,
        "limb_prior": prior_source,
        "held_out": f"seed {cfg.synthetic_seed}; training used others (validation: +{VAL_SEED_OFFSET})"
        if cfg.data == SYNTHETIC
        else "",
    }
