"""3D pose metrics on ``(N, J, 3)`` arrays, in the units of the input (reference §10). Pure numpy.

Naming follows what is computed, not a protocol number, because the protocol numbers are swapped between
code bases (see docs): ``mpjpe`` is plain error, ``pa_mpjpe`` aligns with a similarity transform
(rotation, uniform scale, translation), ``rigid_mpjpe`` with rotation and translation only, which is what
3DMPPE / MobileHumanPose report as Human3.6M "protocol 1".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mhp.errors import MhpError
from mhp.geometry import similarity_align

PCK_THRESHOLD_MM = 150.0
AUC_THRESHOLDS_MM = np.linspace(0.0, 150.0, 31)  # 0, 5, ..., 150 mm as for MPI-INF-3DHP / MuPoTS


def _check_pair(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    if pred.shape != gt.shape or pred.ndim < 2 or pred.shape[-1] != 3:
        raise MhpError(f"metrics need two (N, J, 3) arrays of one shape, got {pred.shape} and {gt.shape}")
    if not (np.isfinite(pred).all() and np.isfinite(gt).all()):
        raise MhpError("metrics got NaN or infinite coordinates; check the model output and the ground truth")
    return pred, gt


def joint_errors(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Per-joint Euclidean distances, shape ``(N, J)``."""
    pred, gt = _check_pair(pred, gt)
    return np.linalg.norm(pred - gt, axis=-1)


def root_relative(joints: np.ndarray, root: int) -> np.ndarray:
    """Subtract the root joint from every joint of ``(..., J, 3)``."""
    joints = np.asarray(joints, dtype=np.float64)
    return joints - joints[..., root : root + 1, :]


def mpjpe(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean per-joint position error, without alignment (root-align the inputs first if wanted)."""
    return float(joint_errors(pred, gt).mean())


def pa_mpjpe(pred: np.ndarray, gt: np.ndarray) -> float:
    """MPJPE after per-sample similarity Procrustes alignment (rotation, uniform scale, translation)."""
    pred, gt = _check_pair(pred, gt)
    return mpjpe(similarity_align(pred, gt, scale=True), gt)


def rigid_mpjpe(pred: np.ndarray, gt: np.ndarray) -> float:
    """MPJPE after per-sample rigid alignment (rotation and translation, no scale): 3DMPPE "protocol 1"."""
    pred, gt = _check_pair(pred, gt)
    return mpjpe(similarity_align(pred, gt, scale=False), gt)


def pck3d(pred: np.ndarray, gt: np.ndarray, threshold: float = PCK_THRESHOLD_MM) -> float:
    """Percentage of joints closer than ``threshold`` to the ground truth (3DPCK, in %)."""
    return float((joint_errors(pred, gt) < threshold).mean() * 100.0)


def auc(pred: np.ndarray, gt: np.ndarray, thresholds: Sequence[float] = AUC_THRESHOLDS_MM) -> float:
    """Area under the 3DPCK curve over ``thresholds``: the mean PCK over them, in %."""
    errors = joint_errors(pred, gt)
    return float(np.mean([(errors < t).mean() for t in thresholds]) * 100.0)


def per_group_mean(values: np.ndarray, groups: Sequence[str]) -> dict[str, float]:
    """Mean of per-sample ``values`` (``(N,)`` or ``(N, J)``) for every group label, in first-seen order.

    Used for the per-action tables of Human3.6M and the per-sequence tables of MuPoTS.
    """
    values = np.asarray(values, dtype=np.float64)
    if len(groups) != len(values):
        raise MhpError(f"per_group_mean got {len(values)} values but {len(groups)} group labels")
    labels = np.asarray(groups)
    return {str(g): float(values[labels == g].mean()) for g in dict.fromkeys(groups)}
