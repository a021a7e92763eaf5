"""Poses for training and scoring a lifter: 2D joints in pixels with (or without) their 3D joints in mm.

``pairs_from_annotations`` takes them from any dataset reader's table (Human3.6M, MuCo give 3D; MPII, COCO only
2D); ``synthetic_pairs`` draws them from the synthetic body model under random cameras, no images rendered.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mhp.data.annotations import Annotations
from mhp.data.body import (
    body_to_camera,
    joints_for,
    pose_joints,
    sample_camera,
    sample_placement,
    sample_pose,
    sample_shape,
)
from mhp.errors import MhpError
from mhp.geometry import cam2pixel
from mhp.skeleton import JointSet, remap_joints

SYNTHETIC_IMAGE_SIZE = (1000, 1000)  # Human3.6M's frame size: cameras and placements are drawn for it


@dataclass(frozen=True)
class PosePairs:
    """``joints_2d`` ``(N, J, 2)`` pixels; ``joints_3d`` ``(N, J, 3)`` root-relative mm or None (2D-only data)."""

    joint_set: JointSet
    joints_2d: np.ndarray
    joints_3d: np.ndarray | None
    visible: np.ndarray  # (N, J) bool: joints present in the annotation

    def __post_init__(self) -> None:
        n, j = len(self.joints_2d), self.joint_set.num_joints
        shapes = [self.joints_2d.shape == (n, j, 2), self.visible.shape == (n, j)]
        shapes.append(self.joints_3d is None or self.joints_3d.shape == (n, j, 3))
        if not all(shapes):
            raise MhpError(f"pose pairs for the {self.joint_set.name} set need (N, {j}, 2/3) joints and (N, {j}) flags")

    def __len__(self) -> int:
        return len(self.joints_2d)

    def complete(self) -> PosePairs:
        """Only the poses with every joint present: a lifter needs all its inputs."""
        keep = self.visible.all(axis=1)
        return PosePairs(
            self.joint_set,
            self.joints_2d[keep],
            None if self.joints_3d is None else self.joints_3d[keep],
            self.visible[keep],
        )


def pairs_from_annotations(table: Annotations, joint_set: JointSet) -> PosePairs:
    """The 2D (and, for 3D datasets, root-relative 3D) poses of a reader's table, remapped to ``joint_set``."""
    joints_2d = remap_joints(table.joints_img[..., :2], table.joint_set, joint_set)
    visible = remap_joints(table.joints_vis[..., None], table.joint_set, joint_set)[..., 0] > 0
    joints_3d = None
    if table.has_depth:
        cam = remap_joints(table.joints_cam, table.joint_set, joint_set)
        joints_3d = cam - cam[:, joint_set.root : joint_set.root + 1]
    return PosePairs(joint_set, joints_2d.astype(np.float64), None if joints_3d is None else joints_3d, visible)


def synthetic_pairs(count: int, seed: int, joint_set: JointSet) -> PosePairs:
    """``count`` synthetic people seen by random cameras: their projected 2D and root-relative 3D joints."""
    rng = np.random.default_rng(seed)
    joints_2d, joints_3d = [], []
    for _ in range(count):
        focal, principal = sample_camera(rng, SYNTHETIC_IMAGE_SIZE)
        shape, angles = sample_shape(rng), sample_pose(rng)
        yaw, pitch, roll, root = sample_placement(rng, SYNTHETIC_IMAGE_SIZE, focal, principal)
        cam = joints_for(joint_set, body_to_camera(pose_joints(shape, angles), yaw, pitch, roll, root))
        joints_2d.append(cam2pixel(cam, focal, principal)[:, :2])
        joints_3d.append(cam - cam[joint_set.root])
    visible = np.ones((count, joint_set.num_joints), bool)
    return PosePairs(
        joint_set, np.array(joints_2d).reshape(count, -1, 2), np.array(joints_3d).reshape(count, -1, 3), visible
    )
