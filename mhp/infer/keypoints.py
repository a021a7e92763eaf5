"""2D keypoint files for ``mhp-infer --keypoints``: a 2D detector's poses, checked and remapped by joint name to
a lifter's joint set.

Format (JSON)::

    {"joint_set": "COCO",                   # or "joints": ["nose", "left_eye", ...], the names in keypoint order
     "score_threshold": 0.1,                # optional; a needed keypoint scored lower counts as missing
     "poses": [{"id": "frame_0001", "keypoints": [[x, y, score], [x, y], null, ...]}, ...]}

Keypoints are ``[x, y]``, ``[x, y, score]`` or ``null`` (not detected), in pixels or any other unit (the lifter
scales every pose by its head-root distance). ``"COCO"`` takes its 19 joints or the 17 COCO / MoveNet keypoints.
Names match mhp's joint names case-insensitively, with ``left_`` / ``right_`` (or OpenPose's ``L`` / ``R``)
read as ``L_`` / ``R_``; names the lifter does not use are ignored, and a missing Pelvis or Thorax is the
midpoint of the hips or the shoulders.
"""

from __future__ import annotations

import math
import reprlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mhp.errors import MhpError
from mhp.geometry import finite_number
from mhp.skeleton import COCO, JOINT_SETS, JointSet, get_joint_set
from mhp.util.fileio import is_file, read_json_file

MAX_BYTES = 64 * 2**20  # about 100,000 poses of 19 scored keypoints
MAX_COORDINATE = 1e6  # beyond any image; keeps float32 exact enough and the scale finite
DEFAULT_SCORE_THRESHOLD = 0.1  # catches OpenPose's 0 and COCO's v=0 (not labelled) for joints the lifter needs
MIN_HEAD_ROOT_FRACTION = 1e-3  # head-root distance, as a share of the pose's size, below which it cannot be scaled
COCO_KEYPOINTS = 17  # COCO / MoveNet / BlazePose-COCO output: mhp's COCO set without Thorax and Pelvis
DERIVED = {"Pelvis": ("L_Hip", "R_Hip"), "Thorax": ("L_Shoulder", "R_Shoulder")}  # midpoints, as mhp's COCO set
TOP_KEYS = ("joint_set", "joints", "score_threshold", "poses")
POSE_KEYS = ("id", "keypoints")
EXAMPLE = '{"joint_set": "COCO", "poses": [{"id": "frame_1", "keypoints": [[x, y, score], ...]}]}'
KNOWN_NAMES = {name.lower(): name for s in JOINT_SETS.values() for name in s.joints}
SHORT = reprlib.Repr()
SHORT.maxstring, SHORT.maxother, SHORT.maxlist = 40, 40, 4


@dataclass(frozen=True)
class KeypointPoses:
    """Poses read for a lifter: ``keypoints`` ``(N, J, 2)`` in ``joint_set`` order, in the file's units."""

    source: str
    joint_set: JointSet  # the lifter's
    score_threshold: float
    ids: tuple[str, ...]
    keypoints: np.ndarray  # (N, J, 2) float64
    scores: np.ndarray  # (N, J) float64; 1 where the file gives none, the lower parent's for a midpoint
    rejected: tuple[str, ...] = ()  # one line per pose left out (strict=False): what is wrong with it


def read_keypoints(path: str | Path, joint_set: JointSet, *, strict: bool = True) -> KeypointPoses:
    """The poses of a keypoint file remapped to ``joint_set``; every flaw is one MhpError naming the pose and joint
    (with ``strict=False`` a flawed pose is left out and its message kept in ``rejected`` instead)."""
    path = Path(path)
    if not is_file(path):
        raise MhpError(f"keypoint file {path} not found (or not a file); pass a JSON such as {EXAMPLE}")
    size = path.stat().st_size
    if size > MAX_BYTES:
        limit = MAX_BYTES // 2**20
        raise MhpError(f"{path} is {size / 2**20:.0f} MiB, over the {limit} MiB limit of keypoint files; split it")
    content = read_json_file(path, fix=f"expected {EXAMPLE}")
    return parse_keypoints(content, joint_set, source=str(path), strict=strict)


def parse_keypoints(
    content: object, joint_set: JointSet, *, source: str = "keypoints", strict: bool = True
) -> KeypointPoses:
    """:func:`read_keypoints` for already-parsed JSON; ``source`` names it in errors."""
    from mhp.models.lifter import head_joint  # torch: only once a lifter is in use

    if not isinstance(content, dict) or "poses" not in content:
        raise MhpError(f"{source}: expected {EXAMPLE}")
    unknown = sorted(str(k) for k in content if k not in TOP_KEYS)
    if unknown:
        raise MhpError(f"{source}: unknown key {SHORT.repr(unknown[0])}; a keypoint file has {', '.join(TOP_KEYS)}")
    layouts, described = declared_layouts(content, source)
    threshold = read_threshold(content.get("score_threshold", DEFAULT_SCORE_THRESHOLD), source)
    poses = content["poses"]
    if not isinstance(poses, list):
        raise MhpError(f"{source}: 'poses' must be a list of poses, e.g. {EXAMPLE}")
    if not poses:
        raise MhpError(f"{source}: the pose list is empty; add at least one pose")
    head = head_joint(joint_set)
    plans = {names: joint_plan(names, joint_set, described, source) for names in layouts.values()}
    ids, keypoints, scores, rejected = [], [], [], []
    for index, pose in enumerate(poses):
        try:
            pose_id, points, label = pose_fields(pose, index, source)
            names = layouts.get(len(points))
            if names is None:
                counts = " or ".join(str(n) for n in sorted(layouts))
                flat = points and all(finite_number(v) for v in points)
                hint = "; group a flat [x1, y1, s1, x2, ...] list into [x, y, score] triples" if flat else ""
                raise MhpError(f"{label} has {len(points)} keypoints; {described} takes {counts}{hint}")
            coords, conf = read_points(points, names, label)
            xy, score = remap(coords, conf, names, plans[names], joint_set, threshold, label)
            check_scalable(xy, joint_set, head, label)
        except MhpError as exc:
            if strict:
                raise
            rejected.append(str(exc))
            continue
        ids.append(pose_id)
        keypoints.append(xy)
        scores.append(score)
    if not ids:
        raise MhpError(f"{source}: no pose is usable; the first: {rejected[0]}")
    return KeypointPoses(
        source=source,
        joint_set=joint_set,
        score_threshold=threshold,
        ids=tuple(ids),
        keypoints=np.stack(keypoints),
        scores=np.stack(scores),
        rejected=tuple(rejected),
    )


def declared_layouts(content: dict, source: str) -> tuple[dict[int, tuple[str, ...]], str]:
    """{keypoint count: joint names in keypoint order} from ``joint_set`` or ``joints``, and how to call them."""
    has_set, has_names = "joint_set" in content, "joints" in content
    if has_set == has_names:
        which = "both 'joint_set' and 'joints'" if has_set else "neither 'joint_set' nor 'joints'"
        raise MhpError(f"{source} has {which}; give one: a joint set ({', '.join(JOINT_SETS)}) or the names in order")
    if has_set:
        name = content["joint_set"]
        if not isinstance(name, str):
            raise MhpError(f"{source}: 'joint_set' must be one of {', '.join(JOINT_SETS)}, got {SHORT.repr(name)}")
        try:
            declared = get_joint_set(name)
        except MhpError as exc:
            raise MhpError(f"{source}: {exc}") from None
        layouts = {declared.num_joints: declared.joints}
        if declared is COCO:
            layouts[COCO_KEYPOINTS] = COCO.joints[:COCO_KEYPOINTS]
        return layouts, f"the {declared.name} set"
    names = content["joints"]
    if not (
        isinstance(names, list) and names and all(isinstance(n, str) and n.strip() and n.isprintable() for n in names)
    ):
        raise MhpError(f"{source}: 'joints' must list the joint names in keypoint order, e.g. [\"nose\", ...]")
    canonical = tuple(canonical_name(n) for n in names)
    repeated = next((n for n in canonical if canonical.count(n) > 1), None)
    if repeated is not None:
        raise MhpError(f"{source}: 'joints' names {SHORT.repr(repeated)} twice; each keypoint needs its own name")
    return {len(canonical): canonical}, f"the file's 'joints' list ({len(canonical)} names)"


def canonical_name(name: str) -> str:
    """mhp's spelling of a joint name (``left_hip`` -> ``L_Hip``); unknown names are kept as written."""
    key = name.strip().lower()
    for side, prefix in (("left_", "l_"), ("right_", "r_")):
        if key.startswith(side):
            key = prefix + key[len(side) :]
    if key not in KNOWN_NAMES and key[:1] in ("l", "r"):  # OpenPose: LShoulder, RHip
        key = f"{key[0]}_{key[1:]}" if f"{key[0]}_{key[1:]}" in KNOWN_NAMES else key
    return KNOWN_NAMES.get(key, name)


def read_threshold(value: object, source: str) -> float:
    if not finite_number(value) or value < 0:
        raise MhpError(f"{source}: 'score_threshold' must be a number of at least 0, got {SHORT.repr(value)}")
    return float(value)


def pose_fields(pose: object, index: int, source: str) -> tuple[str, list, str]:
    """A pose's id (its index when it has none), its keypoint list, and the label errors name it by."""
    label = f"{source}: pose {index}"
    if not isinstance(pose, dict) or "keypoints" not in pose:
        raise MhpError(f'{label} is not {{"id": ..., "keypoints": [[x, y, score], ...]}}')
    unknown = sorted(str(k) for k in pose if k not in POSE_KEYS)
    if unknown:
        raise MhpError(f"{label}: unknown key {SHORT.repr(unknown[0])}; a pose has {', '.join(POSE_KEYS)}")
    pose_id = pose.get("id", index)
    if isinstance(pose_id, bool) or not isinstance(pose_id, str | int):
        raise MhpError(f"{label}: 'id' must be a string or an integer, got {SHORT.repr(pose_id)}")
    pose_id = str(pose_id)
    label = f"{label} (id {SHORT.repr(pose_id)})" if "id" in pose else label
    points = pose["keypoints"]
    if not isinstance(points, list):
        raise MhpError(f"{label}: 'keypoints' must be a list of [x, y], [x, y, score] or null")
    return pose_id, points, label


def read_points(points: list, names: tuple[str, ...], label: str) -> tuple[np.ndarray, np.ndarray]:
    """``(K, 2)`` coordinates and ``(K,)`` scores (1 when not given); NaN for a null keypoint."""
    coords, scores = np.full((len(points), 2), np.nan), np.full(len(points), np.nan)
    for k, (point, name) in enumerate(zip(points, names, strict=True)):
        if point is None:
            continue
        joint = f"{label}, joint {k} ({name})"
        if not isinstance(point, list) or len(point) not in (2, 3):
            raise MhpError(f"{joint} is {SHORT.repr(point)}; expected [x, y], [x, y, score] or null")
        for value in point:
            if isinstance(value, float) and not math.isfinite(value):
                raise MhpError(f"{joint} holds {value}; give finite numbers, or null for a joint not detected")
            if not finite_number(value):
                raise MhpError(f"{joint} holds {SHORT.repr(value)}, not a number; keypoints are [x, y, score]")
        if max(abs(point[0]), abs(point[1])) > MAX_COORDINATE:
            raise MhpError(f"{joint} is {SHORT.repr(point)}: coordinates must lie within ±{MAX_COORDINATE:g}")
        coords[k] = point[:2]
        scores[k] = point[2] if len(point) == 3 else 1.0
    return coords, scores


def joint_plan(names: tuple[str, ...], joint_set: JointSet, described: str, source: str) -> list[tuple[int, ...]]:
    """For each joint of ``joint_set``: the file's index of it, or the two whose midpoint it is."""
    plan, lacking = [], []
    for joint in joint_set.joints:
        parents = DERIVED.get(joint, ())
        if joint in names:
            plan.append((names.index(joint),))
        elif parents and all(p in names for p in parents):
            plan.append(tuple(names.index(p) for p in parents))
        else:
            lacking.append(joint)
    if lacking:
        raise MhpError(
            f"{source}: {described} lacks {', '.join(lacking)}, which the {joint_set.name} lifter needs; "
            f"give keypoints of the {joint_set.name} set ({', '.join(joint_set.joints)}), or lift them with a lifter "
            "trained on their set (mhp-train --task lift --joint-set SET; README: Lifting 2D keypoints to 3D)"
        )
    return plan


def remap(
    coords: np.ndarray,
    scores: np.ndarray,
    names: tuple[str, ...],
    plan: list[tuple[int, ...]],
    joint_set: JointSet,
    threshold: float,
    label: str,
) -> tuple[np.ndarray, np.ndarray]:
    """The pose in ``joint_set`` order; a needed keypoint that is null or scored below ``threshold`` is an error."""
    for joint, sources in zip(joint_set.joints, plan, strict=True):
        role = "" if len(sources) == 1 else f" (for {joint}, the midpoint of {' and '.join(names[s] for s in sources)})"
        for s in sources:
            what = f"{label}, joint {s} ({names[s]})"
            if np.isnan(scores[s]):
                raise MhpError(f"{what} is null, and the {joint_set.name} lifter needs it{role}")
            if scores[s] < threshold:
                raise MhpError(
                    f"{what} has score {scores[s]:.3g}, below the score_threshold {threshold:g}, and the "
                    f"{joint_set.name} lifter needs it{role}; lower 'score_threshold' in the file to accept it"
                )
    xy = np.stack([coords[list(sources)].mean(axis=0) for sources in plan])
    score = np.array([scores[list(sources)].min() for sources in plan])
    return xy, score


def head_root_fraction(keypoints: np.ndarray, root: int, head: int) -> np.ndarray:
    """``(N,)`` head-root distance of ``(N, J, 2)`` poses over each pose's size (its bounding box's longer side)."""
    distance = np.linalg.norm(keypoints[:, head] - keypoints[:, root], axis=-1)
    size = np.ptp(keypoints, axis=1).max(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return distance / size


def check_scalable(xy: np.ndarray, joint_set: JointSet, head: int, label: str) -> None:
    """A one-line error when a pose's head (almost) coincides with its root: the lifter cannot normalise it."""
    fraction = float(head_root_fraction(xy[None], joint_set.root, head)[0])
    if not fraction > MIN_HEAD_ROOT_FRACTION:
        shown = "all its joints coincide" if math.isnan(fraction) else f"{fraction:.2g} of the pose's size apart"
        raise MhpError(
            f"{label}: its {joint_set.joints[head]} lies on its {joint_set.root_name} ({shown}); the lifter "
            "scales each pose by that distance, so this one cannot be lifted: check its keypoints"
        )
