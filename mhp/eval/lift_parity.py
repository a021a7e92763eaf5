"""Parity gates for exported lifters: a candidate's root-relative mm poses against the float32 torch lifter on
held-out synthetic 2D/3D pairs (``synthetic_pairs(n, HELD_OUT_SEED)``), with budgets per precision.

Reports the joint difference to the reference (mean, p95, max mm), MPJPE and PA-MPJPE of both against the
ground truth, ΔMPJPE and the worst joints, and checks the candidate for NaN, constant or collapsed outputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from mhp.data.lift_pairs import synthetic_pairs
from mhp.errors import MhpError
from mhp.eval.parity import HELD_OUT_SEED, accuracy_mm, summary
from mhp.skeleton import JointSet


@dataclass(frozen=True)
class LiftBudget:
    """Limits a lifter candidate must meet; None means not gated.

    ``delta_mpjpe_mm`` and ``delta_mpjpe_fraction`` form one limit: ΔMPJPE <= max(mm, fraction x reference MPJPE).
    ``mean_fraction`` bounds the mean joint difference relative to the reference's own MPJPE.
    """

    max_mm: float | None = None
    mean_mm: float | None = None
    mean_fraction: float | None = None
    delta_mpjpe_mm: float | None = None
    delta_mpjpe_fraction: float | None = None


# Measured on 64- to 1024-wide lifters (docs/export.md, "Lifters"): fp32 differs by <= 0.002 mm (BatchNorm
# folded into the linear layers); fp16 by <= 0.5 mm mean, 2 mm max; full INT8 by 8-16 % of the model's MPJPE on
# average while its MPJPE moves by 0.4-1.2 mm: quantisation noise is nearly orthogonal to the model's own error.
LIFT_BUDGETS = {
    "fp32": LiftBudget(max_mm=0.05),
    "fp16": LiftBudget(mean_mm=2.0, delta_mpjpe_mm=0.5),
    "dynamic": LiftBudget(mean_fraction=0.35, delta_mpjpe_mm=1.5, delta_mpjpe_fraction=0.02),
    "int8": LiftBudget(mean_fraction=0.35, delta_mpjpe_mm=1.5, delta_mpjpe_fraction=0.02),
}


@dataclass(frozen=True)
class LiftParitySet:
    """Held-out poses: ``uv`` ``(N, J, 2)`` float32 lifter inputs and ``gt_cam`` ``(N, J, 3)`` root-relative mm."""

    uv: np.ndarray
    gt_cam: np.ndarray
    joint_set: JointSet
    label: str

    def to_camera(self, pose: np.ndarray) -> np.ndarray:
        """Lifter outputs are already root-relative mm: what MPJPE and limb plausibility score."""
        return pose


def normalized_keypoints(model, joints_px: np.ndarray) -> np.ndarray:
    """``(N, J, 2)`` pixel joints -> the lifter's float32 input (:meth:`LiftingModel.normalize`)."""
    return model.normalize(torch.as_tensor(joints_px, dtype=torch.float32))[0].numpy()


def lift_parity_set(model, count: int, seed: int = HELD_OUT_SEED) -> LiftParitySet:
    """``count`` synthetic people under random cameras, none of them seen in training (seed ``seed``)."""
    if count < 1:
        raise MhpError("--parity-samples must be at least 1")
    pairs = synthetic_pairs(count, seed, model.joint_set)
    label = f"synthetic held-out pairs (seed {seed}), {count} poses"
    return LiftParitySet(normalized_keypoints(model, pairs.joints_2d), pairs.joints_3d, model.joint_set, label)


@dataclass(frozen=True)
class LiftReference:
    """The float32 lifter's poses on a parity set, computed once and compared with every artifact."""

    name: str
    pose: np.ndarray
    mpjpe_mm: float
    pa_mpjpe_mm: float


def lift_reference(runner, data: LiftParitySet) -> LiftReference:
    pose = runner(data.uv)
    scores = accuracy_mm(data, pose)
    return LiftReference(runner.name, pose, scores["mpjpe"], scores["pa_mpjpe"])


def lift_health_failures(candidate: np.ndarray, reference: np.ndarray) -> list[str]:
    """NaN, constant or collapsed candidate poses (relative to the reference's own spread)."""
    if not np.isfinite(candidate).all():
        return [f"non-finite outputs in {int((~np.isfinite(candidate)).any(axis=(1, 2)).sum())} poses"]
    failures = []
    if len(candidate) > 1 and candidate.std(axis=0).max() < 1e-3:
        failures.append("constant output: every 2D pose gives the same 3D pose")
    spread, expected = candidate.std(axis=1).mean(), reference.std(axis=1).mean()
    if spread < 0.25 * expected:
        failures.append(f"collapsed output: joints spread {spread:.1f} mm vs {expected:.1f} mm")
    return failures


def compare_lift(reference: LiftReference, candidate, data: LiftParitySet, budget: LiftBudget) -> dict[str, Any]:
    """The parity report of a lift runner (JSON-able); ``passed`` is False with ``failures`` naming each limit."""
    return compare_lift_outputs(reference, candidate(data.uv), candidate.name, data, budget)


def compare_lift_outputs(
    reference: LiftReference, cand: np.ndarray, name: str, data: LiftParitySet, budget: LiftBudget
) -> dict[str, Any]:
    """:func:`compare_lift` on poses already computed (``(N, J, 3)`` root-relative mm on ``data``)."""
    ref = reference.pose
    report: dict[str, Any] = {"reference": reference.name, "candidate": name, "samples": len(ref)}
    failures = lift_health_failures(cand, ref)
    if failures:
        return {**report, "passed": False, "failures": failures}
    mm = np.linalg.norm(cand - ref, axis=-1)
    scores = accuracy_mm(data, cand)
    delta = scores["mpjpe"] - reference.mpjpe_mm
    per_joint = mm.mean(axis=0)
    worst = [
        {"joint": data.joint_set.joints[j], "mean_mm": float(per_joint[j]), "max_mm": float(mm[:, j].max())}
        for j in np.argsort(per_joint)[::-1][:3]
    ]
    delta_limit = None
    if budget.delta_mpjpe_mm is not None:
        delta_limit = max(budget.delta_mpjpe_mm, (budget.delta_mpjpe_fraction or 0.0) * reference.mpjpe_mm)
    mean_limit = budget.mean_mm
    if budget.mean_fraction is not None:
        mean_limit = budget.mean_fraction * reference.mpjpe_mm
    limits = {
        "max_mm": (float(mm.max()), budget.max_mm),
        "mean_mm": (float(mm.mean()), mean_limit),
        "delta_mpjpe_mm": (delta, delta_limit),
    }
    failures = [
        f"{k} {v:.4g} > budget {limit:.4g}" for k, (v, limit) in limits.items() if limit is not None and v > limit
    ]
    return {
        **report,
        "mm_error": summary(mm),
        "mpjpe_reference_mm": reference.mpjpe_mm,
        "mpjpe_candidate_mm": scores["mpjpe"],
        "pa_mpjpe_reference_mm": reference.pa_mpjpe_mm,
        "pa_mpjpe_candidate_mm": scores["pa_mpjpe"],
        "delta_mpjpe_mm": delta,
        "delta_pa_mpjpe_mm": scores["pa_mpjpe"] - reference.pa_mpjpe_mm,
        "worst_joints": worst,
        "budget": {k: limit for k, (_, limit) in limits.items() if limit is not None},
        "passed": not failures,
        "failures": failures,
    }
