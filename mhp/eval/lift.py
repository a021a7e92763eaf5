"""Scoring a lifter: lift 2D poses, compare with their 3D ground truth, and with the mean-pose baseline.

Three numbers per set, all root-relative over the joint set's evaluation joints: ``mpjpe`` (no alignment),
``n_mpjpe`` (each pose scaled by its least-squares factor first, Rhodin et al. 2018: what a lifter trained without
3D labels can know) and ``pa_mpjpe`` (Procrustes: rotation, translation and scale).
"""

from __future__ import annotations

import numpy as np
import torch

from mhp.data.lift_pairs import PosePairs
from mhp.eval.pose import EVAL_JOINTS, score_poses
from mhp.models.lifter import LiftingModel
from mhp.skeleton import JointSet

METRICS = ("mpjpe", "n_mpjpe", "pa_mpjpe")
N_MPJPE = "root-relative error after scaling each prediction by its least-squares factor (Rhodin et al. 2018)"


@torch.no_grad()
def lift_poses(model: LiftingModel, joints_2d: np.ndarray, *, batch_size: int = 4096) -> np.ndarray:
    """``(N, J, 2)`` pixel joints -> ``(N, J, 3)`` root-relative mm, in eval mode on the model's device."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    out = []
    for start in range(0, len(joints_2d), batch_size):
        batch = torch.as_tensor(joints_2d[start : start + batch_size], dtype=torch.float32, device=device)
        out.append(model.lift(batch).cpu().numpy())
    model.train(was_training)
    return np.concatenate(out).astype(np.float64)


def scale_aligned(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Each root-relative ``pred`` pose times the factor that best fits ``gt`` (least squares)."""
    num = np.einsum("njc,njc->n", pred, gt)
    den = np.einsum("njc,njc->n", pred, pred)
    return pred * (num / np.maximum(den, 1e-12))[:, None, None]


def score_lifted(pred: np.ndarray, gt: np.ndarray, joint_set: JointSet) -> dict[str, float]:
    """MPJPE, N-MPJPE and PA-MPJPE (mm) of root-relative predictions against root-relative ground truth."""
    root = joint_set.root
    pred = pred - pred[:, root : root + 1]
    gt = gt - gt[:, root : root + 1]
    joints = list(EVAL_JOINTS.get(joint_set.name, range(joint_set.num_joints)))
    scores = score_poses(pred, gt, root=root, joints=joints, groups=[""] * len(pred))
    n_mpjpe = np.linalg.norm(scale_aligned(pred, gt)[:, joints] - gt[:, joints], axis=-1)
    return {
        "mpjpe": float(scores.mpjpe.mean()),
        "n_mpjpe": float(n_mpjpe.mean()),
        "pa_mpjpe": float(scores.pa_mpjpe.mean()),
    }


def score_lifter(model: LiftingModel, pairs: PosePairs) -> dict[str, float]:
    """The lifter's scores on ``pairs`` (which must hold 3D ground truth and complete 2D poses)."""
    if pairs.joints_3d is None:
        raise ValueError("scoring a lifter needs 3D ground truth")
    return score_lifted(lift_poses(model, pairs.joints_2d), pairs.joints_3d, pairs.joint_set)


def mean_pose(poses_3d: np.ndarray, root: int) -> np.ndarray:
    """The average root-relative pose ``(J, 3)``: the baseline every lifter must beat."""
    return (poses_3d - poses_3d[:, root : root + 1]).mean(axis=0)


def score_mean_pose(mean: np.ndarray, pairs: PosePairs) -> dict[str, float]:
    """The baseline's scores: ``mean`` predicted for every pose of ``pairs``."""
    return score_lifted(np.broadcast_to(mean, pairs.joints_3d.shape).copy(), pairs.joints_3d, pairs.joint_set)
