"""Synthetic humans: procedural people in procedural scenes, the built-in dataset.

:class:`SyntheticHumans` is a dataset *source* rendered on the fly (nothing on disk), deterministic by
``(seed, index)``; ``mhp.data.writers`` writes the same kind of scenes in every real dataset's layout.
It proves the pipeline learns and that exports keep accuracy; it is not a substitute for Human3.6M.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from mhp.data.annotations import Record
from mhp.data.body import (
    body_to_camera,
    joints_for,
    pose_joints,
    sample_camera,
    sample_placement,
    sample_pose,
    sample_shape,
)
from mhp.data.render import Appearance, render_scene, sample_appearance
from mhp.geometry import cam2pixel, process_bbox
from mhp.skeleton import H36M, JointSet

BOX_MARGIN = 1.2  # the Human3.6M annotation rule: 1.2 x the extent of the projected joints
VAL_SEED_OFFSET = 500_009  # validation scenes come from another seed than training scenes (seed + this)


def joints_bbox(points_img: np.ndarray) -> np.ndarray:
    """``[x, y, w, h]`` around projected joints as Human3.6M's annotations make it (width = extent - 1, x1.2)."""
    lo, hi = points_img[:, :2].min(axis=0), points_img[:, :2].max(axis=0)
    size = (hi - lo - 1.0) * BOX_MARGIN
    centre = (lo + hi) / 2.0
    return np.array([centre[0] - size[0] / 2, centre[1] - size[1] / 2, size[0], size[1]])


@dataclass(frozen=True)
class Person:
    """One synthetic person: 27 camera-space joints (``mhp.data.body.SYNTH_JOINTS``) and a look."""

    joints_cam: np.ndarray
    appearance: Appearance


def sample_person(
    rng: np.random.Generator, image_size: tuple[int, int], focal: np.ndarray, principal: np.ndarray
) -> Person:
    shape, angles = sample_shape(rng), sample_pose(rng)
    yaw, pitch, roll, root = sample_placement(rng, image_size, focal, principal)
    joints = body_to_camera(pose_joints(shape, angles), yaw, pitch, roll, root)
    return Person(joints, sample_appearance(rng))


def person_record(
    person: Person,
    joint_set: JointSet,
    *,
    image_size: tuple[int, int],
    focal: np.ndarray,
    principal: np.ndarray,
    image_path: str,
    image_id: int,
) -> Record:
    """The annotation a real dataset would carry for ``person``, in ``joint_set``."""
    joints_cam = joints_for(joint_set, person.joints_cam)
    joints_img = cam2pixel(joints_cam, focal, principal)
    joints_img[:, 2] -= joints_cam[joint_set.root, 2]
    bbox_raw = joints_bbox(joints_img)
    bbox = process_bbox(bbox_raw, image_size[0], image_size[1])
    return Record(
        image_path=image_path,
        image_id=image_id,
        width=image_size[0],
        height=image_size[1],
        bbox_raw=bbox_raw,
        bbox=bbox if bbox is not None else bbox_raw,
        joints_img=joints_img,
        joints_cam=joints_cam,
        joints_vis=np.ones(joint_set.num_joints),
        root_cam=joints_cam[joint_set.root],
        focal=np.asarray(focal, np.float64),
        principal=np.asarray(principal, np.float64),
        group="synthetic",
        subject=0,
        score=1.0,
    )


class SyntheticHumans:
    """``num_samples`` single-person scenes; sample ``i`` depends only on ``(seed, i)``.

    A dataset source (see ``mhp.data.dataset``): ``record(i)`` is the annotation in ``joint_set``,
    ``load_image(i)`` renders the BGR image.
    """

    has_depth = True

    def __init__(
        self,
        num_samples: int,
        *,
        joint_set: JointSet = H36M,
        seed: int = 0,
        image_size: tuple[int, int] = (512, 512),
    ) -> None:
        if num_samples < 1:
            raise ValueError("SyntheticHumans needs at least one sample")
        self.num_samples, self.joint_set, self.seed, self.image_size = num_samples, joint_set, seed, image_size

    def __len__(self) -> int:
        return self.num_samples

    def scene(self, i: int) -> tuple[np.ndarray, np.ndarray, Person]:
        """(focal, principal, person) of sample ``i``."""
        rng = np.random.default_rng([self.seed, i, 0])
        focal, principal = sample_camera(rng, self.image_size)
        return focal, principal, sample_person(rng, self.image_size, focal, principal)

    def record(self, i: int) -> Record:
        focal, principal, person = self.scene(i)
        return person_record(
            person,
            self.joint_set,
            image_size=self.image_size,
            focal=focal,
            principal=principal,
            image_path=f"synthetic://seed{self.seed}/{i}",
            image_id=i,
        )

    def load_image(self, i: int, reduce: int = 1) -> np.ndarray:
        focal, principal, person = self.scene(i)
        image = render_scene(
            np.random.default_rng([self.seed, i, 1]),
            self.image_size,
            focal,
            principal,
            [(person.joints_cam, person.appearance)],
        )
        if reduce == 1:
            return image
        return cv2.resize(image, (image.shape[1] // reduce, image.shape[0] // reduce), interpolation=cv2.INTER_AREA)
