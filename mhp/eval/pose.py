"""Run a model over a test set and score it with the protocols of reference §10.

Conventions (printed with every table): ``mpjpe`` is root-relative error without alignment (the
MobileHumanPose/3DMPPE "protocol 2" number, VideoPose3D's "protocol #1"); ``pa_mpjpe`` aligns rotation,
translation and scale (VideoPose3D's "protocol #2"); ``rigid_mpjpe`` aligns rotation and translation only,
which is what 3DMPPE and MobileHumanPose call "PA MPJPE" / protocol 1 (reference Q2). Limb plausibility (ContextPose's
limb-length prior) is scored next to them: the share of predicted bones within 2 std of the prior's mean length and
the mean deviation from that length, for the predictions and, as the reference, for the ground truth; and
ContextPose's bone-length error, the mean |L_pred - L_gt|.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
from torch.utils.data import DataLoader

from mhp.data.annotations import Annotations
from mhp.data.dataset import CropConfig, PoseDataset
from mhp.errors import MhpError
from mhp.eval.mupots import score_mupots
from mhp.geometry import apply_affine, invert_affine, similarity_align, voxel_to_camera, voxel_to_patch
from mhp.limbs import LimbPrior, bone_length_error_mm, limb_prior, plausibility, read_limb_prior
from mhp.metrics import per_group_mean
from mhp.skeleton import H36M, MUPOTS, JointSet, remap_joints

FLIP_MODES = ("original", "corrected")
# Joints scored per model joint set: Human3.6M drops the appended Thorax, MuCo keeps the 17 MuPoTS joints.
EVAL_JOINTS = {"H36M": range(17), "MUCO": range(17), "MUPOTS": range(17)}
CONVENTIONS = {
    "mpjpe": "root-relative, no alignment (MHP/3DMPPE protocol 2; VideoPose3D protocol #1)",
    "pa_mpjpe": "similarity Procrustes: rotation, translation, scale (VideoPose3D protocol #2)",
    "rigid_mpjpe": "rigid alignment, no scale: what MHP/3DMPPE report as protocol 1 'PA MPJPE'",
}


def flip_back(coords: torch.Tensor, flip_perm: torch.Tensor, width: int, patch_size: int, mode: str) -> torch.Tensor:
    """Predictions on a mirrored patch mapped back to the original patch (reference §10.1).

    ``original``: x -> W - 1 - x, the index mirror of the published code (biased by W/S - 1 voxel).
    ``corrected``: x -> W (S - 1) / S - x, the exact mirror of patch columns p -> S - 1 - p.
    """
    if mode not in FLIP_MODES:
        raise MhpError(f"unknown flip mode {mode!r}; choose original or corrected")
    offset = width - 1.0 if mode == "original" else width * (patch_size - 1.0) / patch_size
    flipped = coords[:, flip_perm].clone()
    flipped[..., 0] = offset - flipped[..., 0]
    return flipped


@torch.no_grad()
def predict(
    model: torch.nn.Module,
    dataset: PoseDataset,
    *,
    batch_size: int = 32,
    device: torch.device | str = "cpu",
    workers: int = 0,
    flip: str | None = None,
    channels_last: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Voxel predictions ``(N, J, 3)`` in the dataset's target joint set, the crops ``(N, 2, 3)`` and the
    source indices. ``flip`` (original / corrected) averages with the mirrored input (reference §10.1)."""
    model.eval()
    flip_perm = torch.as_tensor(dataset.joint_set.flip_permutation())
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=workers)
    coords, crops, indices = [], [], []
    for batch in loader:
        images = batch["image"].to(device)
        if channels_last:
            images = images.to(memory_format=torch.channels_last)
        out = model(images).float()
        if flip is not None:
            mirrored = model(torch.flip(images, dims=[3])).float()
            width = dataset.crop.heatmap_size[0]
            out = (out + flip_back(mirrored, flip_perm.to(out.device), width, dataset.crop.patch_size, flip)) / 2
        coords.append(out.cpu().numpy())
        crops.append(batch["crop"].numpy())
        indices.append(batch["index"].numpy())
    return np.concatenate(coords), np.concatenate(crops), np.concatenate(indices)


def voxels_to_camera(voxel: np.ndarray, crops: np.ndarray, source, indices: np.ndarray, crop: CropConfig) -> np.ndarray:
    """Camera-space millimetres of every prediction, with each sample's root depth, focal and principal point
    (ground truth or RootNet, whichever the source holds)."""
    records = [source.record(int(i)) for i in indices]
    return voxel_to_camera(
        voxel,
        crop=crops,
        root_depth_mm=np.array([r.root_cam[2] for r in records]),
        focal=np.stack([r.focal for r in records]).T[..., None],  # (2, N, 1): broadcasts over joints
        principal=np.stack([r.principal for r in records]).T[..., None],
        heatmap_size=crop.heatmap_size,
        depth_bins=crop.depth_bins,
        patch_size=(crop.patch_size, crop.patch_size),
    )


@dataclass
class Scores:
    """Per-sample root-relative joint errors (mm) under the three alignments, and their group labels."""

    mpjpe: np.ndarray
    pa_mpjpe: np.ndarray
    rigid_mpjpe: np.ndarray
    groups: list[str]

    def summary(self) -> dict[str, float]:
        return {k: float(getattr(self, k).mean()) for k in CONVENTIONS}

    def per_group(self) -> dict[str, dict[str, float]]:
        tables = {k: per_group_mean(getattr(self, k).mean(axis=1), self.groups) for k in CONVENTIONS}
        return {g: {k: tables[k][g] for k in CONVENTIONS} for g in dict.fromkeys(self.groups)}


def score_poses(pred_cam: np.ndarray, gt_cam: np.ndarray, *, root: int, joints: list[int], groups: list[str]) -> Scores:
    """Root-align prediction and ground truth (each on its own root), optionally Procrustes-align over all
    joints, then keep ``joints`` (reference §10.2: alignment uses all 18, scoring drops the Thorax)."""
    pred = pred_cam - pred_cam[:, root : root + 1]
    gt = gt_cam - gt_cam[:, root : root + 1]
    errors = {}
    for key, aligned in (
        ("mpjpe", pred),
        ("pa_mpjpe", similarity_align(pred, gt, scale=True)),
        ("rigid_mpjpe", similarity_align(pred, gt, scale=False)),
    ):
        errors[key] = np.linalg.norm(aligned[:, joints] - gt[:, joints], axis=-1)
    return Scores(**errors, groups=list(groups))


def read_eval_prior(path: str, predicted: JointSet | None = None) -> LimbPrior:
    """A ``--limb-prior`` file (for the ``predicted`` set, when given), its source saying where it was read from."""
    prior = read_limb_prior(path, predicted)
    return replace(prior, source=f"from {path}" + (f" ({prior.source})" if prior.source else ""))


def limb_scores(
    pred_cam: np.ndarray,
    gt_cam: np.ndarray,
    joint_set: JointSet,
    prior: LimbPrior | None,
    *,
    paired: bool = True,
) -> tuple[dict[str, float], str]:
    """Plausibility of the predicted and the true skeletons under ``prior`` (None: the prior of ``gt_cam``), and
    where the prior comes from; with ``paired`` (row i of both is one person), ContextPose's ``|L_pred - L_gt|``."""
    if prior is None:
        try:
            prior = limb_prior(gt_cam, joint_set, source=f"measured on the {len(gt_cam)} ground-truth test poses")
        except MhpError as exc:
            raise MhpError(f"limb plausibility: {exc}, or pass --limb-prior FILE (mhp-data stats)") from None
    elif prior.joint_set != joint_set.name:
        raise MhpError(
            f"the limb prior is for the {prior.joint_set} set but these poses are scored as {joint_set.name}; "
            f"write one with mhp-data stats --joint-set {joint_set.name}"
        )
    pred, gt = plausibility(pred_cam, prior), plausibility(gt_cam, prior)
    scores = {
        "limb_within_2sigma": pred["within_2sigma"],
        "limb_error_mm": pred["bone_error_mm"],
        "gt_limb_within_2sigma": gt["within_2sigma"],
        "gt_limb_error_mm": gt["bone_error_mm"],
    }
    if paired:
        scores["bone_length_error_mm"] = bone_length_error_mm(pred_cam, gt_cam, joint_set.bones)
    return scores, prior.source


def remap_indices(src: JointSet, dst: JointSet) -> list[int]:
    """Indices into ``src`` of every joint of ``dst``; all must exist."""
    missing = [n for n in dst.joints if n not in src.joints]
    if missing:
        raise MhpError(f"the model's {src.name} joints lack {', '.join(missing)} needed by the {dst.name} protocol")
    return [src.joints.index(n) for n in dst.joints]


def mean_pose_mm(source, joint_set: JointSet, limit: int = 2000) -> np.ndarray:
    """The average root-relative camera-space pose of up to ``limit`` training records: the baseline."""
    picks = np.linspace(0, len(source) - 1, num=min(limit, len(source)), dtype=int)
    poses = [remap_joints(source.record(int(i)).joints_cam, source.joint_set, joint_set) for i in picks]
    poses = np.stack(poses)
    return (poses - poses[:, joint_set.root : joint_set.root + 1]).mean(axis=0)


def run_h36m(
    model,
    annotations: Annotations,
    *,
    protocol: int,
    flip: str | None,
    limb_prior: LimbPrior | None = None,
    fast_decode: bool = False,
    **predict_kwargs,
) -> dict:
    """Reference §10.2 on one Human3.6M test split: all three alignments, per action."""
    crop = CropConfig.for_model(model)
    dataset = PoseDataset(annotations, model.joint_set, crop, train=False, fast_decode=fast_decode)
    voxel, crops, indices = predict(model, dataset, flip=flip, **predict_kwargs)
    pred = voxels_to_camera(voxel, crops, annotations, indices, crop)[:, remap_indices(model.joint_set, H36M)]
    gt = annotations.joints_cam[indices].astype(np.float64)
    groups = [annotations.group_names[c] for c in annotations.group_codes[indices]]
    scores = score_poses(pred, gt, root=H36M.root, joints=list(EVAL_JOINTS["H36M"]), groups=groups)
    limbs, prior_source = limb_scores(pred, gt, H36M, limb_prior)
    return {
        "samples": len(indices),
        "primary": "rigid_mpjpe" if protocol == 1 else "mpjpe",
        "metrics": {**scores.summary(), **limbs},
        "per_group": scores.per_group(),
        "group_label": "action",
        "limb_prior": prior_source,
    }


def run_mupots(
    model,
    gt: Annotations,
    predictions: Annotations,
    *,
    flip: str | None,
    limb_prior: LimbPrior | None = None,
    fast_decode: bool = False,
    **predict_kwargs,
) -> dict:
    """Reference §10.3: root-relative 3DPCK@150 mm and AUC per sequence, over all and over matched people."""
    crop = CropConfig.for_model(model)
    dataset = PoseDataset(predictions, model.joint_set, crop, train=False, fast_decode=fast_decode)
    voxel, crops, indices = predict(model, dataset, flip=flip, **predict_kwargs)
    keep = remap_indices(model.joint_set, MUPOTS)
    pred_cam = voxels_to_camera(voxel, crops, predictions, indices, crop)[:, keep]
    patch = voxel_to_patch(voxel, crop.heatmap_size, crop.depth_bins, (crop.patch_size, crop.patch_size))
    pred_img = apply_affine(patch, invert_affine(crops))[:, keep, :2]
    sequences = [gt.group_names[c] for c in gt.group_codes]
    pairs = np.argsort(indices) if predictions is gt else None  # ground-truth boxes: prediction i is person i
    scores = score_mupots(
        pred_cam,
        pred_img,
        predictions.image_ids[indices],
        gt.joints_cam.astype(np.float64),
        gt.joints_img[..., :2].astype(np.float64),
        gt.image_ids,
        sequences,
        pairs=pairs,
    )
    all_gt, matched = scores.table(only_matched=False), scores.table(only_matched=True)
    gt_cam = gt.joints_cam.astype(np.float64)
    if predictions is gt:  # prediction k is of person indices[k]; RootNet boxes are matched to people by scoring
        limbs, prior_source = limb_scores(pred_cam, gt_cam[indices], MUPOTS, limb_prior)
    else:
        limbs, prior_source = limb_scores(pred_cam, gt_cam, MUPOTS, limb_prior, paired=False)
    return {
        "samples": len(indices),
        "people": len(gt),
        "matched_people": int(scores.matched.sum()),
        "primary": "pck3d_all",
        "metrics": {
            "pck3d_all": all_gt["all"]["pck3d"],
            "auc_all": all_gt["all"]["auc"],
            "pck3d_matched": matched["all"]["pck3d"],
            "auc_matched": matched["all"]["auc"],
            **limbs,
        },
        "per_group": {
            seq: {
                "pck3d_all": all_gt[seq]["pck3d"],
                "auc_all": all_gt[seq]["auc"],
                "pck3d_matched": matched[seq]["pck3d"],
            }
            for seq in all_gt
            if seq != "all"
        },
        "group_label": "sequence",
        "limb_prior": prior_source,
    }


def run_synthetic(
    model, source, baseline_source, *, flip: str | None, limb_prior: LimbPrior | None = None, **predict_kwargs
) -> dict:
    """Held-out synthetic humans with ground-truth boxes and roots, next to the mean-training-pose baseline."""
    joint_set = model.joint_set
    crop = CropConfig.for_model(model)
    dataset = PoseDataset(source, joint_set, crop, train=False)
    voxel, crops, indices = predict(model, dataset, flip=flip, **predict_kwargs)
    pred = voxels_to_camera(voxel, crops, source, indices, crop)
    gt = np.stack([remap_joints(source.record(int(i)).joints_cam, source.joint_set, joint_set) for i in indices])
    joints = list(EVAL_JOINTS.get(joint_set.name, range(joint_set.num_joints)))
    scores = score_poses(pred, gt, root=joint_set.root, joints=joints, groups=["synthetic"] * len(indices))
    mean = mean_pose_mm(baseline_source, joint_set)
    rel = gt - gt[:, joint_set.root : joint_set.root + 1]
    baseline = float(np.linalg.norm(mean[None, joints] - rel[:, joints], axis=-1).mean())
    metrics = scores.summary()
    limbs, prior_source = limb_scores(pred, gt, joint_set, limb_prior)
    return {
        "samples": len(indices),
        "primary": "mpjpe",
        "metrics": {**metrics, "baseline_mpjpe": baseline, "ratio_to_baseline": metrics["mpjpe"] / baseline, **limbs},
        "per_group": {},
        "group_label": "",
        "limb_prior": prior_source,
    }
