"""The limb-length prior (ContextPose): per-bone mean and std in mm, and how plausible a skeleton is under it.

``limb_prior`` measures a dataset's 3D poses, ``write_limb_prior`` / ``read_limb_prior`` keep the result as a small
JSON file, and ``plausibility`` scores predictions against it: the share of bones within two standard deviations
of their mean length and the mean absolute deviation from that mean in mm. ``bone_length_error_mm`` compares
with the ground truth instead, as ContextPose reports it.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from mhp.errors import MhpError
from mhp.skeleton import JointSet, get_joint_set
from mhp.util.fileio import read_json_file, write_text_atomic

FORMAT = "mhp-limb-prior"
VERSION = 1
MIN_SAMPLES = 2  # a standard deviation needs two lengths
PLAUSIBLE_SIGMAS = 2.0


@dataclass(frozen=True)
class LimbPrior:
    """Mean and standard deviation (mm) of every bone of ``joint_set``, measured on ``samples`` poses."""

    joint_set: str
    bones: tuple[tuple[int, int], ...]
    mean_mm: tuple[float, ...]
    std_mm: tuple[float, ...]
    samples: tuple[int, ...]  # poses that had both joints of the bone visible
    source: str = ""

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(self.mean_mm), np.asarray(self.std_mm)


def bone_lengths(joints: np.ndarray, bones: tuple[tuple[int, int], ...]) -> np.ndarray:
    """``(..., J, 3)`` joints -> ``(..., B)`` bone lengths in the joints' unit."""
    joints = np.asarray(joints, dtype=np.float64)
    parents, children = np.array(bones).T
    return np.linalg.norm(joints[..., children, :] - joints[..., parents, :], axis=-1)


def _check_poses(poses: np.ndarray, joint_set: JointSet, what: str) -> np.ndarray:
    poses = np.asarray(poses, dtype=np.float64)
    if poses.ndim != 3 or poses.shape[1:] != (joint_set.num_joints, 3):
        raise MhpError(
            f"{what} should be (N, {joint_set.num_joints}, 3) for the {joint_set.name} set, got {poses.shape}"
        )
    return poses


def limb_prior(
    poses: np.ndarray, joint_set: JointSet, visible: np.ndarray | None = None, *, source: str = ""
) -> LimbPrior:
    """The prior of ``(N, J, 3)`` poses in mm; a bone counts only where both its joints are visible and finite."""
    poses = _check_poses(poses, joint_set, "poses")
    lengths = bone_lengths(poses, joint_set.bones)
    parents, children = np.array(joint_set.bones).T
    vis = np.ones(poses.shape[:2], bool) if visible is None else np.asarray(visible).reshape(poses.shape[:2]) > 0
    usable = vis[:, parents] & vis[:, children] & np.isfinite(lengths)
    counts = usable.sum(axis=0)
    if counts.min(initial=MIN_SAMPLES) < MIN_SAMPLES:
        bone = joint_set.bones[int(np.argmin(counts))]
        names = f"{joint_set.joints[bone[0]]}-{joint_set.joints[bone[1]]}"
        raise MhpError(
            f"the bone {names} is visible in {counts.min()} pose(s); a limb prior needs at least {MIN_SAMPLES} — "
            "measure a larger set of 3D poses"
        )
    masked = np.where(usable, lengths, 0.0)
    mean = masked.sum(axis=0) / counts
    std = np.sqrt(np.where(usable, (lengths - mean) ** 2, 0.0).sum(axis=0) / (counts - 1))
    return LimbPrior(
        joint_set=joint_set.name,
        bones=tuple(tuple(int(i) for i in b) for b in joint_set.bones),
        mean_mm=tuple(float(v) for v in mean),
        std_mm=tuple(float(v) for v in std),
        samples=tuple(int(c) for c in counts),
        source=source,
    )


def write_limb_prior(path: str | Path, prior: LimbPrior) -> Path:
    """Save ``prior`` as JSON (atomically), with the bone names for people reading it."""
    joint_set = get_joint_set(prior.joint_set)
    content = {"format": FORMAT, "version": VERSION, **asdict(prior)}
    content["bone_names"] = [f"{joint_set.joints[a]}-{joint_set.joints[b]}" for a, b in prior.bones]
    return write_text_atomic(path, json.dumps(content, indent=1) + "\n")


def read_limb_prior(path: str | Path, predicted: JointSet | None = None) -> LimbPrior:
    """A prior written by :func:`write_limb_prior` (for the ``predicted`` set, when given: the ``--limb-prior`` of a
    model predicting it); anything else is a one-line error naming the file."""
    fix = "write it with mhp-data stats"
    content = read_json_file(Path(path), fix=fix)
    if not isinstance(content, dict) or content.get("format") != FORMAT or content.get("version") != VERSION:
        raise MhpError(f"{path} is not an {FORMAT} v{VERSION} file; {fix}")
    try:
        joint_set = get_joint_set(str(content["joint_set"]))
        prior = LimbPrior(
            joint_set=joint_set.name,
            bones=tuple((int(a), int(b)) for a, b in content["bones"]),
            mean_mm=tuple(float(v) for v in content["mean_mm"]),
            std_mm=tuple(float(v) for v in content["std_mm"]),
            samples=tuple(int(v) for v in content["samples"]),
            source=str(content.get("source", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise MhpError(f"{path}: a field is missing or malformed ({exc!r}); {fix}") from None
    sizes = {len(prior.mean_mm), len(prior.std_mm), len(prior.samples)}
    if prior.bones != tuple(joint_set.bones) or sizes != {len(joint_set.bones)}:
        raise MhpError(f"{path}: its bones are not those of the {joint_set.name} set; {fix}")
    values = prior.mean_mm + prior.std_mm
    if not all(math.isfinite(v) and v >= 0 for v in values) or min(prior.mean_mm) <= 0:
        raise MhpError(f"{path}: bone means must be positive and standard deviations non-negative; {fix}")
    if predicted is not None and prior.joint_set != predicted.name:
        raise MhpError(
            f"--limb-prior {path} is for the {prior.joint_set} set but the model predicts {predicted.name}; "
            f"write one with mhp-data stats --joint-set {predicted.name}"
        )
    return prior


def plausibility(poses: np.ndarray, prior: LimbPrior) -> dict[str, float]:
    """``within_2sigma``: share of bones within two std of their mean; ``bone_error_mm``: mean |length - mean|."""
    poses = _check_poses(poses, get_joint_set(prior.joint_set), "predicted poses")
    mean, std = prior.arrays()
    deviation = np.abs(bone_lengths(poses, prior.bones) - mean)
    return {
        "within_2sigma": float(np.mean(deviation <= PLAUSIBLE_SIGMAS * std)),
        "bone_error_mm": float(np.mean(deviation)),
    }


def bone_length_error_mm(pred: np.ndarray, gt: np.ndarray, bones: tuple[tuple[int, int], ...]) -> float:
    """ContextPose's limb error: mean ``|L_pred - L_gt|`` over bones and poses ``(N, J, 3)``, in mm."""
    return float(np.mean(np.abs(bone_lengths(pred, bones) - bone_lengths(gt, bones))))


def path_length_mm(prior: LimbPrior, joint_set: JointSet, start: int, end: int) -> float:
    """The summed mean bone lengths on the skeleton path from ``start`` to ``end``."""
    lengths = {}
    for (a, b), mean in zip(prior.bones, prior.mean_mm, strict=True):
        lengths[(a, b)] = lengths[(b, a)] = mean
    reached, frontier = {start: 0.0}, [start]
    while frontier:
        joint = frontier.pop()
        for (a, b), length in lengths.items():
            if a == joint and b not in reached:
                reached[b] = reached[a] + length
                frontier.append(b)
    if end not in reached:
        raise MhpError(
            f"the {joint_set.name} bones do not connect {joint_set.joints[start]} to {joint_set.joints[end]}"
        )
    return reached[end]
