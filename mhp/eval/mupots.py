"""MuPoTS-3D scoring (reference §10.3): match predictions to people, rescale bones, 3DPCK@150 mm and AUC.

The published evaluation is MATLAB code whose helpers are missing from the repositories (reference §10.3), so
three choices here are ours and are reported with the numbers: people are matched greedily by the mean 2D
distance over joints 1..13 (MATLAB's 2..14) and accepted under 40 px; 3DPCK and AUC are taken over the 14
MPI-INF-3DHP joints (head top, neck, arms, legs: indices 0..13), root-relative; predicted bone lengths are
rescaled to the ground truth's along the kinematic tree from the pelvis before scoring, as the MATLAB does.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from mhp.metrics import AUC_THRESHOLDS_MM, PCK_THRESHOLD_MM
from mhp.skeleton import MUPOTS, JointSet

PCK_JOINTS = tuple(range(14))
MATCH_JOINTS = tuple(range(1, 14))
MATCH_THRESHOLD_PX = 40.0


def bone_tree(joint_set: JointSet) -> list[tuple[int, int]]:
    """(parent, child) bones in breadth-first order from the root."""
    neighbours: dict[int, list[int]] = {j: [] for j in range(joint_set.num_joints)}
    for a, b in joint_set.bones:
        neighbours[a].append(b)
        neighbours[b].append(a)
    order, seen, queue = [], {joint_set.root}, deque([joint_set.root])
    while queue:
        parent = queue.popleft()
        for child in neighbours[parent]:
            if child not in seen:
                seen.add(child)
                order.append((parent, child))
                queue.append(child)
    return order


def map_to_gt_bone_lengths(pred: np.ndarray, gt: np.ndarray, tree: list[tuple[int, int]]) -> np.ndarray:
    """Rebuild ``pred (J, 3)`` from the root outward with each bone's direction kept and its length taken from
    ``gt`` (removes scale errors, as the MuPoTS evaluation does)."""
    out = pred.copy()
    for parent, child in tree:
        direction = pred[child] - pred[parent]
        norm = np.linalg.norm(direction)
        length = np.linalg.norm(gt[child] - gt[parent])
        out[child] = out[parent] + (direction / norm * length if norm > 1e-9 else 0.0)
    return out


def match_people(pred_2d: np.ndarray, gt_2d: np.ndarray) -> list[int]:
    """For every ground-truth person, the index of its matched prediction or -1 (greedy, closest first)."""
    if len(pred_2d) == 0 or len(gt_2d) == 0:
        return [-1] * len(gt_2d)
    j = list(MATCH_JOINTS)
    dist = np.linalg.norm(gt_2d[:, None, j] - pred_2d[None, :, j], axis=-1).mean(axis=-1)
    matches = [-1] * len(gt_2d)
    for flat in np.argsort(dist, axis=None):
        g, p = np.unravel_index(flat, dist.shape)
        if dist[g, p] >= MATCH_THRESHOLD_PX:
            break
        if matches[g] < 0 and p not in matches:
            matches[g] = int(p)
    return matches


@dataclass
class MupotsScores:
    """Per ground-truth person joint errors (mm, inf when unmatched), matched flags and sequence labels."""

    errors: np.ndarray  # (P, len(PCK_JOINTS))
    matched: np.ndarray
    sequences: list[str]

    def table(self, only_matched: bool) -> dict[str, dict[str, float]]:
        keep = self.matched if only_matched else np.ones_like(self.matched)
        rows = {}
        for seq in sorted(set(self.sequences), key=lambda s: (len(s), s)):
            mask = keep & (np.array(self.sequences) == seq)
            rows[seq] = _pck_auc(self.errors[mask])
        rows["all"] = _pck_auc(self.errors[keep])
        return rows


def _pck_auc(errors: np.ndarray) -> dict[str, float]:
    if errors.size == 0:
        return {"pck3d": float("nan"), "auc": float("nan"), "people": 0}
    return {
        "pck3d": float((errors < PCK_THRESHOLD_MM).mean() * 100),
        "auc": float(np.mean([(errors < t).mean() for t in AUC_THRESHOLDS_MM]) * 100),
        "people": len(errors),
    }


def score_mupots(
    pred_cam: np.ndarray,
    pred_img: np.ndarray,
    pred_image_ids: np.ndarray,
    gt_cam: np.ndarray,
    gt_img: np.ndarray,
    gt_image_ids: np.ndarray,
    gt_sequences: list[str],
    pairs: np.ndarray | None = None,
) -> MupotsScores:
    """Match predictions ``(P, 17, 3)`` to valid ground-truth people ``(G, 17, 3)`` image by image, then score
    root-relative, bone-rescaled errors over :data:`PCK_JOINTS`.

    ``pairs`` (the prediction index of every ground-truth person) skips the matching: with ground-truth
    boxes each prediction is its person's.
    """
    tree, root = bone_tree(MUPOTS), MUPOTS.root
    errors = np.full((len(gt_cam), len(PCK_JOINTS)), np.inf)
    matched = np.zeros(len(gt_cam), dtype=bool)
    matches: dict[int, int] = {}
    if pairs is not None:
        matches = {g: int(p) for g, p in enumerate(pairs)}
    else:
        for image_id in np.unique(gt_image_ids):
            g_idx = np.flatnonzero(gt_image_ids == image_id)
            p_idx = np.flatnonzero(pred_image_ids == image_id)
            for g, m in zip(g_idx, match_people(pred_img[p_idx], gt_img[g_idx]), strict=True):
                matches[int(g)] = int(p_idx[m]) if m >= 0 else -1
    for g, p in matches.items():
        if p >= 0:
            gt = gt_cam[g] - gt_cam[g, root]
            pred = pred_cam[p] - pred_cam[p, root]
            pred = map_to_gt_bone_lengths(pred, gt, tree)
            errors[g] = np.linalg.norm(pred[list(PCK_JOINTS)] - gt[list(PCK_JOINTS)], axis=-1)
            matched[g] = True
    return MupotsScores(errors, matched, list(gt_sequences))
