"""Joint sets of the supported datasets (reference §8) and remapping between them by joint name."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mhp.errors import MhpError


@dataclass(frozen=True)
class JointSet:
    """Names, left/right flip pairs, bones (index pairs) and the root joint of one skeleton."""

    name: str
    joints: tuple[str, ...]
    flip_pairs: tuple[tuple[int, int], ...]
    bones: tuple[tuple[int, int], ...]
    root: int
    has_depth: bool

    def __post_init__(self) -> None:
        if len(set(self.joints)) != len(self.joints):
            raise ValueError(f"joint set {self.name} repeats a joint name")
        indices = [i for pair in self.flip_pairs + self.bones for i in pair] + [self.root]
        if any(not 0 <= i < len(self.joints) for i in indices):
            raise ValueError(f"joint set {self.name} refers to a joint index out of range")

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    @property
    def root_name(self) -> str:
        return self.joints[self.root]

    def index(self, joint_name: str) -> int:
        """Index of a joint by name; a one-line error lists the valid names."""
        try:
            return self.joints.index(joint_name)
        except ValueError:
            raise MhpError(
                f"joint {joint_name!r} is not in the {self.name} set; valid: {', '.join(self.joints)}"
            ) from None

    def flip_permutation(self) -> np.ndarray:
        """Index array that swaps every left/right pair: ``mirrored = joints[..., perm, :]``."""
        perm = np.arange(self.num_joints)
        for a, b in self.flip_pairs:
            perm[a], perm[b] = b, a
        return perm


# fmt: off
H36M = JointSet(
    name="H36M",
    joints=(
        "Pelvis", "R_Hip", "R_Knee", "R_Ankle", "L_Hip", "L_Knee", "L_Ankle", "Torso", "Neck",
        "Nose", "Head", "L_Shoulder", "L_Elbow", "L_Wrist", "R_Shoulder", "R_Elbow", "R_Wrist",
        "Thorax",
    ),
    flip_pairs=((1, 4), (2, 5), (3, 6), (14, 11), (15, 12), (16, 13)),
    bones=(
        (0, 7), (7, 8), (8, 9), (9, 10), (8, 11), (11, 12), (12, 13), (8, 14), (14, 15),
        (15, 16), (0, 1), (1, 2), (2, 3), (0, 4), (4, 5), (5, 6),
    ),
    root=0,
    has_depth=True,
)

MPII = JointSet(
    name="MPII",
    joints=(
        "R_Ankle", "R_Knee", "R_Hip", "L_Hip", "L_Knee", "L_Ankle", "Pelvis", "Thorax", "Neck",
        "Head", "R_Wrist", "R_Elbow", "R_Shoulder", "L_Shoulder", "L_Elbow", "L_Wrist",
    ),
    flip_pairs=((0, 5), (1, 4), (2, 3), (10, 15), (11, 14), (12, 13)),
    bones=(
        (0, 1), (1, 2), (2, 6), (7, 12), (12, 11), (11, 10), (5, 4), (4, 3), (3, 6), (7, 13),
        (13, 14), (14, 15), (6, 7), (7, 8), (8, 9),
    ),
    root=6,
    has_depth=False,
)

# The 17 COCO keypoints plus Thorax and Pelvis (midpoints of shoulders / hips). Reference §8.3 gives no COCO
# skeleton; these are the 15 standard COCO edges, with Thorax and Pelvis left unconnected.
COCO = JointSet(
    name="COCO",
    joints=(
        "Nose", "L_Eye", "R_Eye", "L_Ear", "R_Ear", "L_Shoulder", "R_Shoulder", "L_Elbow",
        "R_Elbow", "L_Wrist", "R_Wrist", "L_Hip", "R_Hip", "L_Knee", "R_Knee", "L_Ankle",
        "R_Ankle", "Thorax", "Pelvis",
    ),
    flip_pairs=((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)),
    bones=(
        (1, 2), (0, 1), (0, 2), (2, 4), (1, 3), (6, 8), (8, 10), (5, 7), (7, 9), (12, 14),
        (14, 16), (11, 13), (13, 15), (5, 6), (11, 12),
    ),
    root=18,
    has_depth=False,
)

MUCO = JointSet(
    name="MUCO",
    joints=(
        "Head_top", "Thorax", "R_Shoulder", "R_Elbow", "R_Wrist", "L_Shoulder", "L_Elbow",
        "L_Wrist", "R_Hip", "R_Knee", "R_Ankle", "L_Hip", "L_Knee", "L_Ankle", "Pelvis", "Spine",
        "Head", "R_Hand", "L_Hand", "R_Toe", "L_Toe",
    ),
    flip_pairs=((2, 5), (3, 6), (4, 7), (8, 11), (9, 12), (10, 13), (17, 18), (19, 20)),
    bones=(
        (0, 16), (16, 1), (1, 15), (15, 14), (14, 8), (14, 11), (8, 9), (9, 10), (10, 19),
        (11, 12), (12, 13), (13, 20), (1, 2), (2, 3), (3, 4), (4, 17), (1, 5), (5, 6), (6, 7),
        (7, 18),
    ),
    root=14,
    has_depth=True,
)

MUPOTS = JointSet(
    name="MUPOTS",
    joints=MUCO.joints[:17],
    flip_pairs=MUCO.flip_pairs[:6],
    bones=tuple(bone for bone in MUCO.bones if max(bone) < 17),
    root=14,
    has_depth=True,
)

# fmt: on

JOINT_SETS: dict[str, JointSet] = {s.name: s for s in (H36M, MPII, COCO, MUCO, MUPOTS)}

# Joints scored by the evaluation protocols: H36M drops the appended Thorax (reference §10.2).
H36M_EVAL_JOINTS = tuple(range(17))


def get_joint_set(name: str) -> JointSet:
    """Look a joint set up by name, case-insensitively."""
    try:
        return JOINT_SETS[name.upper()]
    except KeyError:
        raise MhpError(f"unknown joint set {name!r}; choose one of {', '.join(JOINT_SETS)}") from None


def joint_mapping(src: JointSet, dst: JointSet) -> list[tuple[int, int]]:
    """(src index, dst index) for every joint name the two sets share, in dst order."""
    return [(src.joints.index(n), i) for i, n in enumerate(dst.joints) if n in src.joints]


def remap_joints(values: np.ndarray, src: JointSet, dst: JointSet, fill: float = 0.0) -> np.ndarray:
    """Reorder ``values[..., src.num_joints, C]`` into ``dst`` by name; joints src lacks get ``fill``.

    Works for coordinates ``(..., J, 3)`` and for visibility ``(..., J, 1)`` alike (reference §6.5).
    """
    values = np.asarray(values)
    if values.ndim < 2 or values.shape[-2] != src.num_joints:
        raise MhpError(
            f"remap_joints expected (..., {src.num_joints}, C) for the {src.name} set, got shape {values.shape}"
        )
    out_shape = (*values.shape[:-2], dst.num_joints, values.shape[-1])
    out = np.full(out_shape, fill, dtype=values.dtype)
    for s, d in joint_mapping(src, dst):
        out[..., d, :] = values[..., s, :]
    return out
