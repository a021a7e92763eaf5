"""Parity gates: a candidate's outputs against the float32 reference's on held-out data with ground truth, for
image models (crops in, voxel coordinates out) and lifters (normalised 2D keypoints in, root-relative mm out).

One budget type, one health check and one comparison serve both. The report gives the output differences (voxels
for image models, camera mm for both), the MPJPE and PA-MPJPE of both against the ground truth, ΔMPJPE and the
worst joints; NaN, constant or collapsed outputs fail before any budget, then the precision's budget applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from mhp.data.dataset import CropConfig, PoseDataset
from mhp.data.lift_pairs import synthetic_pairs
from mhp.errors import MhpError
from mhp.eval.pose import EVAL_JOINTS, score_poses, voxels_to_camera
from mhp.skeleton import JointSet, remap_joints

HELD_OUT_SEED = 1_000_003  # the evaluation's held-out synthetic scenes; training uses other seeds


@dataclass(frozen=True)
class Budget:
    """Limits a candidate must meet; None means not gated.

    Output differences: ``max_voxel`` and ``mean_voxel`` (image models' coordinates), ``max_mm`` and ``mean_mm``
    (camera mm), or ``mean_fraction`` of the reference's own MPJPE as the mean limit. ΔMPJPE: ``delta_mpjpe_mm``
    and ``delta_mpjpe_fraction`` (of the reference's MPJPE) are two limits, or with ``either`` one, the larger.
    """

    max_voxel: float | None = None
    mean_voxel: float | None = None
    max_mm: float | None = None
    mean_mm: float | None = None
    mean_fraction: float | None = None
    delta_mpjpe_mm: float | None = None
    delta_mpjpe_fraction: float | None = None
    either: bool = False

    def limits(self, reference_mpjpe_mm: float) -> dict[str, float]:
        """The limits in the units the report measures, fractions of the reference's MPJPE worked out."""
        limits = {"max_voxel": self.max_voxel, "mean_voxel": self.mean_voxel, "max_mm": self.max_mm}
        limits["mean_mm"] = self.mean_mm if self.mean_fraction is None else self.mean_fraction * reference_mpjpe_mm
        if self.either and self.delta_mpjpe_mm is not None:
            fraction = (self.delta_mpjpe_fraction or 0.0) * reference_mpjpe_mm
            limits["delta_mpjpe_mm"] = max(self.delta_mpjpe_mm, fraction)
        else:
            limits["delta_mpjpe_mm"] = self.delta_mpjpe_mm
            limits["delta_mpjpe_fraction"] = self.delta_mpjpe_fraction
        return {k: v for k, v in limits.items() if v is not None}


BUDGETS = {
    "fp32": Budget(max_voxel=1e-3),
    "fp16": Budget(mean_voxel=0.05),
    "dynamic": Budget(delta_mpjpe_mm=1.5, delta_mpjpe_fraction=0.015),
    "int8": Budget(delta_mpjpe_mm=1.5, delta_mpjpe_fraction=0.015),
}
# Measured on 64- to 1024-wide lifters (docs/export.md, "Lifters"): fp32 differs by <= 0.002 mm (BatchNorm
# folded into the linear layers); fp16 by <= 0.5 mm mean, 2 mm max; full INT8 by 8-16 % of the model's MPJPE on
# average while its MPJPE moves by 0.4-1.2 mm: quantisation noise is nearly orthogonal to the model's own error.
LIFT_BUDGETS = {
    "fp32": Budget(max_mm=0.05),
    "fp16": Budget(mean_mm=2.0, delta_mpjpe_mm=0.5, either=True),
    "dynamic": Budget(mean_fraction=0.35, delta_mpjpe_mm=1.5, delta_mpjpe_fraction=0.02, either=True),
    "int8": Budget(mean_fraction=0.35, delta_mpjpe_mm=1.5, delta_mpjpe_fraction=0.02, either=True),
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

    unit: ClassVar[str] = "voxel"  # what the outputs are measured in
    units: ClassVar[str] = "voxels"
    budgets: ClassVar[dict[str, Budget]] = BUDGETS
    one_input: ClassVar[str] = "crop"
    constant_below: ClassVar[float] = 1e-4

    @property
    def inputs(self) -> np.ndarray:
        return self.pixels

    def to_camera(self, voxels: np.ndarray) -> np.ndarray:
        return voxels_to_camera(voxels, self.crops, self.source, self.indices, self.crop)


@dataclass(frozen=True)
class LiftParitySet:
    """Held-out poses: ``uv`` ``(N, J, 2)`` float32 lifter inputs and ``gt_cam`` ``(N, J, 3)`` root-relative mm."""

    uv: np.ndarray
    gt_cam: np.ndarray
    joint_set: JointSet
    label: str

    unit: ClassVar[str] = "mm"
    units: ClassVar[str] = "mm"
    budgets: ClassVar[dict[str, Budget]] = LIFT_BUDGETS
    one_input: ClassVar[str] = "2D pose"
    constant_below: ClassVar[float] = 1e-3

    @property
    def inputs(self) -> np.ndarray:
        return self.uv

    def to_camera(self, pose: np.ndarray) -> np.ndarray:
        """Lifter outputs are already root-relative mm: what MPJPE and limb plausibility score."""
        return pose


def parity_set(model, source, indices: np.ndarray | None = None) -> ParitySet:
    """Evaluation crops (ground-truth boxes, exactly the evaluation preprocessing) of ``source`` records
    ``indices`` (default: all), with their camera-space ground truth in the model's joint set."""
    if model.joint_set is None:
        raise MhpError(f"{model.num_joints}-joint models have no joint set to score parity with; pass --no-check")
    crop = CropConfig.for_model(model)
    dataset = PoseDataset(source, model.joint_set, crop, train=False)
    indices = np.arange(len(source)) if indices is None else np.asarray(indices)
    cut = [dataset.eval_pixels(int(i)) for i in indices]
    unreadable = [int(i) for i, c in zip(indices, cut, strict=True) if c is None]
    if unreadable:
        path = source.record(unreadable[0]).image_path
        raise MhpError(f"parity image {path} cannot be read; check the dataset with mhp-data check")
    pixels, crops = zip(*cut, strict=True)
    gt = np.stack([remap_joints(source.record(int(i)).joints_cam, source.joint_set, model.joint_set) for i in indices])
    return ParitySet(
        np.stack(pixels).transpose(0, 3, 1, 2), np.stack(crops), indices, source, crop, model.joint_set, gt
    )


def normalized_keypoints(model, joints_px: np.ndarray) -> np.ndarray:
    """``(N, J, 2)`` pixel joints -> the lifter's float32 input (:meth:`LiftingModel.normalize`)."""
    import torch  # the lifter is a torch model; the rest of parity runs on numpy

    return model.normalize(torch.as_tensor(joints_px, dtype=torch.float32))[0].numpy()


def lift_parity_set(model, count: int, seed: int = HELD_OUT_SEED) -> LiftParitySet:
    """``count`` synthetic people under random cameras, none of them seen in training (seed ``seed``)."""
    if count < 1:
        raise MhpError("--parity-samples must be at least 1")
    pairs = synthetic_pairs(count, seed, model.joint_set)
    label = f"synthetic held-out pairs (seed {seed}), {count} poses"
    return LiftParitySet(normalized_keypoints(model, pairs.joints_2d), pairs.joints_3d, model.joint_set, label)


def summary(errors: np.ndarray) -> dict[str, float]:
    return {"mean": float(errors.mean()), "p95": float(np.percentile(errors, 95)), "max": float(errors.max())}


def health_failures(candidate: np.ndarray, reference: np.ndarray, data: ParitySet | LiftParitySet) -> list[str]:
    """NaN, constant or collapsed candidate outputs (collapse relative to the reference's own spread)."""
    if not np.isfinite(candidate).all():
        return [f"non-finite outputs in {int((~np.isfinite(candidate)).any(axis=(1, 2)).sum())} samples"]
    failures = []
    if len(candidate) > 1 and candidate.std(axis=0).max() < data.constant_below:
        untrained = reference.std(axis=0).max() < data.constant_below  # the float model's own poses do not vary
        hint = "; so does the float32 model: the checkpoint looks untrained, train it first" if untrained else ""
        failures.append(f"constant output: every {data.one_input} gives the same pose{hint}")
    spread, expected = candidate.std(axis=1).mean(), reference.std(axis=1).mean()
    if spread < 0.25 * expected:
        failures.append(f"collapsed output: joints spread {spread:.3g} {data.units} vs {expected:.3g} {data.units}")
    return failures


def accuracy_mm(data: ParitySet | LiftParitySet, pred_cam: np.ndarray) -> dict[str, float]:
    """MPJPE and PA-MPJPE (root-relative, the joint set's evaluation joints) against the ground truth."""
    joints = list(EVAL_JOINTS.get(data.joint_set.name, range(data.joint_set.num_joints)))
    scores = score_poses(pred_cam, data.gt_cam, root=data.joint_set.root, joints=joints, groups=[""] * len(pred_cam))
    return {"mpjpe": float(scores.mpjpe.mean()), "pa_mpjpe": float(scores.pa_mpjpe.mean())}


def mpjpe_mm(data: ParitySet | LiftParitySet, pred_cam: np.ndarray) -> float:
    return accuracy_mm(data, pred_cam)["mpjpe"]


@dataclass(frozen=True)
class Reference:
    """The float32 model's outputs on a parity set (and in camera mm), computed once, compared with every artifact."""

    name: str
    outputs: np.ndarray
    camera: np.ndarray
    mpjpe_mm: float
    pa_mpjpe_mm: float | None = None


def reference_outputs(runner, data: ParitySet | LiftParitySet) -> Reference:
    """Run the reference ``runner`` (an image :class:`~mhp.runtime.base.Runner` or a lift runner) on ``data``."""
    outputs = runner(data.inputs)
    camera = data.to_camera(outputs)
    scores = accuracy_mm(data, camera)
    return Reference(runner.name, outputs, camera, scores["mpjpe"], scores["pa_mpjpe"])


def compare(reference: Reference, candidate, data: ParitySet | LiftParitySet, budget: Budget) -> dict[str, Any]:
    """The parity report (JSON-able) of a runner; ``report["passed"]`` is False with ``failures`` naming each limit."""
    return compare_outputs(reference, candidate(data.inputs), candidate.name, data, budget)


def compare_outputs(
    reference: Reference, cand: np.ndarray, name: str, data: ParitySet | LiftParitySet, budget: Budget
) -> dict[str, Any]:
    """:func:`compare` on outputs already computed (``(N, J, 3)`` in the units of ``data``)."""
    report: dict[str, Any] = {"reference": reference.name, "candidate": name, "samples": len(reference.outputs)}
    failures = health_failures(cand, reference.outputs, data)
    if failures:
        return {**report, "passed": False, "failures": failures}
    cand_cam = data.to_camera(cand)
    mm = np.linalg.norm(cand_cam - reference.camera, axis=-1)
    scores = accuracy_mm(data, cand_cam)
    delta = scores["mpjpe"] - reference.mpjpe_mm
    measured = {"max_mm": float(mm.max()), "mean_mm": float(mm.mean())}
    measured |= {"delta_mpjpe_mm": delta, "delta_mpjpe_fraction": delta / reference.mpjpe_mm}
    errors = mm
    if data.unit == "voxel":
        errors = np.linalg.norm(cand - reference.outputs, axis=-1)
        measured |= {"max_voxel": float(errors.max()), "mean_voxel": float(errors.mean())}
        report["voxel_error"] = summary(errors)
    per_joint = errors.mean(axis=0)
    worst = [
        {
            "joint": data.joint_set.joints[j],
            f"mean_{data.unit}": float(per_joint[j]),
            f"max_{data.unit}": float(errors[:, j].max()),
        }
        for j in np.argsort(per_joint)[::-1][:3]
    ]
    limits = budget.limits(reference.mpjpe_mm)
    failures = [f"{k} {measured[k]:.4g} > budget {limit:.4g}" for k, limit in limits.items() if measured[k] > limit]
    report |= {
        "mm_error": summary(mm),
        "mpjpe_reference_mm": reference.mpjpe_mm,
        "mpjpe_candidate_mm": scores["mpjpe"],
        "pa_mpjpe_candidate_mm": scores["pa_mpjpe"],
        "delta_mpjpe_mm": delta,
    }
    if reference.pa_mpjpe_mm is not None:
        report["pa_mpjpe_reference_mm"] = reference.pa_mpjpe_mm
        report["delta_pa_mpjpe_mm"] = scores["pa_mpjpe"] - reference.pa_mpjpe_mm
    return {**report, "worst_joints": worst, "budget": limits, "passed": not failures, "failures": failures}


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
