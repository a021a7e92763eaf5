"""Parity gates: a candidate runner (an exported artifact) against the float32 reference on held-out crops.

Reports coordinate errors (voxels and camera mm), the MPJPE of both against ground truth, ΔMPJPE and the
worst joints, checks the candidate for NaN, constant or collapsed outputs, and applies the precision's budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mhp.data.dataset import CropConfig, PoseDataset
from mhp.errors import MhpError
from mhp.eval.pose import EVAL_JOINTS, score_poses, voxels_to_camera
from mhp.runtime.base import Runner
from mhp.skeleton import remap_joints

HELD_OUT_SEED = 1_000_003  # the evaluation's held-out synthetic scenes; training uses other seeds


@dataclass(frozen=True)
class Budget:
    """Limits a candidate must meet; None means not gated."""

    max_voxel: float | None = None
    mean_voxel: float | None = None
    delta_mpjpe_mm: float | None = None
    delta_mpjpe_fraction: float | None = None


BUDGETS = {
    "fp32": Budget(max_voxel=1e-3),
    "fp16": Budget(mean_voxel=0.05),
    "dynamic": Budget(delta_mpjpe_mm=1.5, delta_mpjpe_fraction=0.015),
    "int8": Budget(delta_mpjpe_mm=1.5, delta_mpjpe_fraction=0.015),
}


@dataclass(frozen=True)
class ParitySet:
    """Held-out crops with ground truth: ``pixels (N, 3, S, S)`` uint8 RGB, their affines and sources."""

    pixels: np.ndarray
    crops: np.ndarray
    indices: np.ndarray
    source: Any
    crop: CropConfig
    joint_set: Any
    gt_cam: np.ndarray

    def to_camera(self, voxels: np.ndarray) -> np.ndarray:
        return voxels_to_camera(voxels, self.crops, self.source, self.indices, self.crop)


def parity_set(model, source, indices: np.ndarray | None = None) -> ParitySet:
    """Evaluation crops (ground-truth boxes, exactly the evaluation preprocessing) of ``source`` records
    ``indices`` (default: all), with their camera-space ground truth in the model's joint set."""
    if model.joint_set is None:
        raise MhpError(f"{model.num_joints}-joint models have no joint set to score parity with; pass --no-check")
    crop = CropConfig.for_model(model)
    dataset = PoseDataset(source, model.joint_set, crop, train=False)
    indices = np.arange(len(source)) if indices is None else np.asarray(indices)
    pixels, crops = zip(*(dataset.eval_pixels(int(i)) for i in indices), strict=True)
    gt = np.stack([remap_joints(source.record(int(i)).joints_cam, source.joint_set, model.joint_set) for i in indices])
    return ParitySet(
        np.stack(pixels).transpose(0, 3, 1, 2), np.stack(crops), indices, source, crop, model.joint_set, gt
    )


def summary(errors: np.ndarray) -> dict[str, float]:
    return {"mean": float(errors.mean()), "p95": float(np.percentile(errors, 95)), "max": float(errors.max())}


def health_failures(candidate: np.ndarray, reference: np.ndarray) -> list[str]:
    """NaN, constant or collapsed candidate outputs (relative to the reference's own spread)."""
    if not np.isfinite(candidate).all():
        return [f"non-finite outputs in {int((~np.isfinite(candidate)).any(axis=(1, 2)).sum())} samples"]
    failures = []
    if len(candidate) > 1 and candidate.std(axis=0).max() < 1e-4:
        failures.append("constant output: every crop gives the same pose")
    spread = candidate.std(axis=1).mean()
    if spread < 0.25 * reference.std(axis=1).mean():
        failures.append(f"collapsed output: joints spread {spread:.3f} voxels vs {reference.std(axis=1).mean():.3f}")
    return failures


def accuracy_mm(data: ParitySet, pred_cam: np.ndarray) -> dict[str, float]:
    """MPJPE and PA-MPJPE (root-relative, the joint set's evaluation joints) against the ground truth."""
    joints = list(EVAL_JOINTS.get(data.joint_set.name, range(data.joint_set.num_joints)))
    scores = score_poses(pred_cam, data.gt_cam, root=data.joint_set.root, joints=joints, groups=[""] * len(pred_cam))
    return {"mpjpe": float(scores.mpjpe.mean()), "pa_mpjpe": float(scores.pa_mpjpe.mean())}


def mpjpe_mm(data: ParitySet, pred_cam: np.ndarray) -> float:
    return accuracy_mm(data, pred_cam)["mpjpe"]


@dataclass(frozen=True)
class Reference:
    """The float32 model's outputs on a parity set, computed once and compared with every artifact."""

    name: str
    coords: np.ndarray
    camera: np.ndarray
    mpjpe_mm: float


def reference_outputs(runner: Runner, data: ParitySet) -> Reference:
    coords = runner(data.pixels)
    camera = data.to_camera(coords)
    return Reference(runner.name, coords, camera, mpjpe_mm(data, camera))


def compare(reference: Reference, candidate: Runner, data: ParitySet, budget: Budget) -> dict[str, Any]:
    """The parity report (JSON-able); ``report["passed"]`` is False with ``failures`` naming each broken limit."""
    return compare_outputs(reference, candidate(data.pixels), candidate.name, data, budget)


def compare_outputs(
    reference: Reference, cand: np.ndarray, name: str, data: ParitySet, budget: Budget
) -> dict[str, Any]:
    """:func:`compare` on coordinates already computed (``(N, J, 3)`` voxels on ``data``)."""
    ref = reference.coords
    failures = health_failures(cand, ref)
    report: dict[str, Any] = {"reference": reference.name, "candidate": name, "samples": len(ref)}
    if failures:
        return {**report, "passed": False, "failures": failures}
    voxel = np.linalg.norm(cand - ref, axis=-1)
    cand_cam = data.to_camera(cand)
    mm = np.linalg.norm(cand_cam - reference.camera, axis=-1)
    scores = accuracy_mm(data, cand_cam)
    ref_mpjpe, cand_mpjpe = reference.mpjpe_mm, scores["mpjpe"]
    delta = cand_mpjpe - ref_mpjpe
    per_joint = voxel.mean(axis=0)
    worst = [
        {"joint": data.joint_set.joints[j], "mean_voxel": float(per_joint[j]), "max_voxel": float(voxel[:, j].max())}
        for j in np.argsort(per_joint)[::-1][:3]
    ]
    limits = {
        "max_voxel": (float(voxel.max()), budget.max_voxel),
        "mean_voxel": (float(voxel.mean()), budget.mean_voxel),
        "delta_mpjpe_mm": (delta, budget.delta_mpjpe_mm),
        "delta_mpjpe_fraction": (delta / ref_mpjpe, budget.delta_mpjpe_fraction),
    }
    failures = [
        f"{k} {value:.4g} > budget {limit:g}" for k, (value, limit) in limits.items() if limit and value > limit
    ]
    return {
        **report,
        "voxel_error": summary(voxel),
        "mm_error": summary(mm),
        "mpjpe_reference_mm": ref_mpjpe,
        "mpjpe_candidate_mm": cand_mpjpe,
        "pa_mpjpe_candidate_mm": scores["pa_mpjpe"],
        "delta_mpjpe_mm": delta,
        "worst_joints": worst,
        "budget": {k: v for k, (_, v) in limits.items() if v is not None},
        "passed": not failures,
        "failures": failures,
    }


def format_parity_table(rows: list[tuple[str, dict[str, Any]]]) -> str:
    """One line per artifact: errors, MPJPEs, verdict. Lifter reports have no voxel errors ("-")."""
    columns = ("mean vox", "p95 vox", "max vox", "mean mm", "max mm", "MPJPE", "ΔMPJPE")
    widths = (9, 9, 9, 8, 8, 7, 7)
    lines = [" ".join([f"{'artifact':<34}", *(c.rjust(w) for c, w in zip(columns, widths, strict=True))]) + "  gate"]
    for name, parity in rows:
        status = parity.get("status", "passed" if parity.get("passed") else "FAILED")
        if "mm_error" not in parity:
            reason = "; ".join(parity.get("failures", [])) or parity.get("reason", "")
            blank = " ".join(f"{'':>{w}}" for w in widths)
            lines.append(f"{name:<34} {blank}  {status} {reason}".rstrip())
            continue
        v, m = parity.get("voxel_error"), parity["mm_error"]
        voxels = f"{v['mean']:9.4f} {v['p95']:9.4f} {v['max']:9.4f}" if v else f"{'-':>9} {'-':>9} {'-':>9}"
        failed = f"  {'; '.join(parity['failures'])}" if parity.get("failures") else ""
        lines.append(
            f"{name:<34} {voxels} {m['mean']:8.2f} {m['max']:8.2f} "
            f"{parity['mpjpe_candidate_mm']:7.1f} {parity['delta_mpjpe_mm']:+7.2f}  {status}{failed}"
        )
    return "\n".join(lines)
