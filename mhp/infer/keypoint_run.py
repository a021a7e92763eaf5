"""``mhp-infer --keypoints FILE.json --model LIFTER``: 2D poses from a keypoint file lifted to root-relative 3D mm."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from mhp.config import InferConfig
from mhp.errors import BatchError, MhpError
from mhp.infer.draw import plot_3d
from mhp.infer.keypoints import KeypointPoses, read_keypoints
from mhp.infer.predictor import Predictor, warn_failed_gate
from mhp.infer.run import FORMAT, VERSION
from mhp.util.fileio import writable_folder, write_json
from mhp.util.optional import MissingDependencyError

PLOT_POSES = 4  # the first poses of a file, side by side in its 3D plot


def run_keypoints(cfg: InferConfig) -> Path:
    """Lift every pose of ``cfg.keypoints`` with the lifter ``cfg.model``; returns the JSON written."""
    if cfg.input:
        raise MhpError(f"pass either an INPUT ({cfg.input}) for an image model or --keypoints for a lifter, not both")
    if cfg.boxes or cfg.detector != InferConfig.detector:
        raise MhpError("--boxes and --detector find people in images; drop them with --keypoints")
    if not cfg.model:
        raise MhpError("--keypoints needs --model: a 2D->3D lifter (a LIFT_MLP checkpoint, or its export)")
    predictor = Predictor(cfg.model, runtime=cfg.runtime, threads=cfg.threads)
    warn_failed_gate(cfg.model, predictor.gate)
    if predictor.lifter is None:
        raise MhpError(
            f"{cfg.model} is an image pose model ({predictor.name}); --keypoints needs a 2D->3D lifter"
            " (LIFT_MLP); pass images as INPUT instead"
        )
    poses = read_keypoints(cfg.keypoints, predictor.lifter.joint_set, strict=cfg.strict)
    joints_rel_mm = predictor.lift(poses.keypoints)
    out = writable_folder(cfg.out)
    stem = Path(cfg.keypoints).stem
    if cfg.plot:
        plot_poses(predictor, joints_rel_mm[:PLOT_POSES], out / f"{stem}_3d.png")
    written = write_json(out / f"{stem}_lifted.json", lifted_document(cfg, predictor, poses, joints_rel_mm))
    if poses.rejected:  # the good poses are written; the bad ones are named, and the command fails
        raise BatchError(len(poses.ids) + len(poses.rejected), "poses", list(poses.rejected), str(written))
    return written


def lifted_document(cfg: InferConfig, predictor: Predictor, poses: KeypointPoses, joints_rel_mm: np.ndarray) -> dict:
    """The result JSON: the lifter, its joints, and per pose its id, the 2D input and the 3D joints."""
    return {
        "format_name": FORMAT,
        "version": VERSION,
        "input": str(cfg.keypoints),
        "kind": "keypoints",
        "model": cfg.model,
        "runtime": predictor.name,
        "joints": {k: predictor.joints[k] for k in ("set", "names", "bones", "root")},
        "score_threshold": poses.score_threshold,
        "poses": [
            {
                "id": pose_id,
                "keypoints_2d": keypoints.tolist(),
                "scores": scores.round(4).tolist(),
                "joints_rel_mm": joints.round(1).tolist(),
            }
            for pose_id, keypoints, scores, joints in zip(
                poses.ids, poses.keypoints, poses.scores, joints_rel_mm, strict=True
            )
        ],
    }


def plot_poses(predictor: Predictor, joints_rel_mm: np.ndarray, path: Path) -> Path | None:
    """The poses side by side in file order (1.2 poses' widths apart), or a note when matplotlib is missing."""
    width = float(np.ptp(joints_rel_mm[..., 0], axis=-1).max()) * 1.2
    placed = [pose + np.array([i * width, 0.0, 0.0]) for i, pose in enumerate(joints_rel_mm)]
    title = f"lifted: the first {len(placed)} poses of the file, left to right"
    try:
        return plot_3d(placed, predictor.joints["bones"], predictor.joints["names"], path, title=title)
    except MissingDependencyError as exc:
        print(f"3D plot skipped: {exc} (or pass --no-plot)", file=sys.stderr)
        return None
