"""Procedural kinematic body model of the synthetic-humans dataset: shapes, poses, placement and cameras.

Body frame: x = the person's left, y = up, z = forward (the way the person faces), millimetres, Pelvis at
the origin. Camera frame: x right, y down, z into the scene.

A pose is a flat ``(POSE_SIZE,)`` array of joint angles in degrees, one entry per name in
:data:`POSE_PARAMS` (in that order)::

     0- 2  R_Hip flex, abd, rot     3  R_Knee flex     4  R_Ankle flex
     5- 7  L_Hip flex, abd, rot     8  L_Knee flex     9  L_Ankle flex
    10-12  Spine flex, lat, twist  13-15  Thorax flex, lat, twist  16-18  Neck flex, lat, twist  19  Head nod
    20-22  L_Shoulder flex, abd, rot  23  L_Elbow flex  24  L_Wrist flex
    25-27  R_Shoulder flex, abd, rot  28  R_Elbow flex  29  R_Wrist flex

Signs: hip/shoulder flexion swings the limb forward (+z); knee flexion bends the shin backward; elbow
flexion bends the forearm forward; ankle flexion lifts the toes; wrist flexion moves the hand forward;
abduction moves a limb away from the midline (left limbs to +x, right limbs to -x); limb rotation is
internal rotation (toes/forearm turn toward the midline); spine/thorax/neck flexion and head nod bend
forward; lateral bending is toward the person's right; twist turns toward the person's left. A node's
local rotation is the product of its entries in the listed order (e.g. ``R_flex @ R_abd @ R_rot``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mhp.errors import MhpError
from mhp.skeleton import JointSet

# fmt: off
SYNTH_JOINTS = (
    "Pelvis", "R_Hip", "R_Knee", "R_Ankle", "R_Toe", "L_Hip", "L_Knee", "L_Ankle", "L_Toe", "Spine", "Thorax",
    "Neck", "Head", "Head_top", "Nose", "L_Eye", "R_Eye", "L_Ear", "R_Ear", "L_Shoulder", "L_Elbow", "L_Wrist",
    "L_Hand", "R_Shoulder", "R_Elbow", "R_Wrist", "R_Hand",
)
PARENTS = (-1, 0, 1, 2, 3, 0, 5, 6, 7, 0, 9, 10, 11, 12, 12, 12, 12, 12, 12, 10, 19, 20, 21, 10, 23, 24, 25)
REST_OFFSETS = np.array([
    (0, 0, 0), (-100, -30, 0), (0, -430, 0), (0, -420, 0), (0, -60, 140),
    (100, -30, 0), (0, -430, 0), (0, -420, 0), (0, -60, 140),
    (0, 230, 0), (0, 230, 0), (0, 90, 0), (0, 110, 10), (0, 110, 0), (0, 10, 100),
    (35, 35, 80), (-35, 35, 80), (75, 10, 0), (-75, 10, 0),
    (170, 0, 0), (0, -290, 0), (0, -260, 0), (0, -80, 0),
    (-170, 0, 0), (0, -290, 0), (0, -260, 0), (0, -80, 0),
], dtype=np.float64)
REST_OFFSETS.setflags(write=False)
REFERENCE_HEIGHT_MM = 1750.0

X, Y, Z = 0, 1, 2
# (parameter name, node, rotation axis, sign, low, high): R_local(node) = product of R_axis(sign * angle).
_DOFS = (
    ("r_hip_flex", "R_Hip", X, -1, -20, 110), ("r_hip_abd", "R_Hip", Z, -1, -15, 45),
    ("r_hip_rot", "R_Hip", Y, 1, -30, 30), ("r_knee_flex", "R_Knee", X, 1, 0, 140),
    ("r_ankle_flex", "R_Ankle", X, -1, -20, 30),
    ("l_hip_flex", "L_Hip", X, -1, -20, 110), ("l_hip_abd", "L_Hip", Z, 1, -15, 45),
    ("l_hip_rot", "L_Hip", Y, -1, -30, 30), ("l_knee_flex", "L_Knee", X, 1, 0, 140),
    ("l_ankle_flex", "L_Ankle", X, -1, -20, 30),
    ("spine_flex", "Spine", X, 1, -15, 45), ("spine_lat", "Spine", Z, 1, -20, 20),
    ("spine_twist", "Spine", Y, 1, -30, 30),
    ("thorax_flex", "Thorax", X, 1, -10, 30), ("thorax_lat", "Thorax", Z, 1, -15, 15),
    ("thorax_twist", "Thorax", Y, 1, -20, 20),
    ("neck_flex", "Neck", X, 1, -30, 40), ("neck_lat", "Neck", Z, 1, -25, 25), ("neck_twist", "Neck", Y, 1, -60, 60),
    ("head_nod", "Head", X, 1, -20, 20),
    ("l_shoulder_flex", "L_Shoulder", X, -1, -40, 170), ("l_shoulder_abd", "L_Shoulder", Z, 1, -10, 160),
    ("l_shoulder_rot", "L_Shoulder", Y, -1, -60, 60), ("l_elbow_flex", "L_Elbow", X, -1, 0, 145),
    ("l_wrist_flex", "L_Wrist", X, -1, -30, 30),
    ("r_shoulder_flex", "R_Shoulder", X, -1, -40, 170), ("r_shoulder_abd", "R_Shoulder", Z, -1, -10, 160),
    ("r_shoulder_rot", "R_Shoulder", Y, 1, -60, 60), ("r_elbow_flex", "R_Elbow", X, -1, 0, 145),
    ("r_wrist_flex", "R_Wrist", X, -1, -30, 30),
)
# fmt: on
POSE_PARAMS = tuple(d[0] for d in _DOFS)
POSE_SIZE = len(POSE_PARAMS)
POSE_MODES = ("standing", "walking", "sitting", "crouching", "arms_raised", "reaching", "bending", "random")
_MODE_PROBS = (0.16, 0.18, 0.1, 0.08, 0.13, 0.13, 0.08, 0.14)
_P = {name: i for i, name in enumerate(POSE_PARAMS)}
_J = {name: i for i, name in enumerate(SYNTH_JOINTS)}
_LOW = np.array([d[4] for d in _DOFS], dtype=np.float64)
_HIGH = np.array([d[5] for d in _DOFS], dtype=np.float64)

# Bones that share one length jitter (left/right mirrored bones stay equal, the face scales as one).
_BONE_GROUPS = (
    ("R_Hip", "L_Hip"),
    ("R_Knee", "L_Knee"),
    ("R_Ankle", "L_Ankle"),
    ("R_Toe", "L_Toe"),
    ("Spine",),
    ("Thorax",),
    ("Neck",),
    ("Head",),
    ("Head_top", "Nose", "L_Eye", "R_Eye", "L_Ear", "R_Ear"),
    ("L_Shoulder", "R_Shoulder"),
    ("L_Elbow", "R_Elbow"),
    ("L_Wrist", "R_Wrist"),
    ("L_Hand", "R_Hand"),
)

FORMAT_ALIASES: dict[str, dict[str, str]] = {
    "H36M": {"Torso": "Spine", "Head": "Head_top"},
    "MPII": {"Head": "Head_top"},
    "COCO": {},
    "MUCO": {},
    "MUPOTS": {},
}
# Joints computed as the midpoint of two synthetic joints instead of looked up by name.
_MIDPOINTS: dict[str, dict[str, tuple[str, str]]] = {"COCO": {"Pelvis": ("L_Hip", "R_Hip")}}

_BODY_TO_CAMERA = np.diag([1.0, -1.0, -1.0])  # body left -> camera +x, up -> -y, forward -> -z (toward camera)
_BODY_TO_WORLD = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])  # left -> +x, up -> +z, fwd -> -y


@dataclass(frozen=True)
class BodyShape:
    """Overall height scale, per-bone length factors (one per joint's incoming bone) and width factors."""

    height_scale: float = 1.0
    bone_scale: tuple[float, ...] = (1.0,) * len(SYNTH_JOINTS)
    shoulder_width: float = 1.0
    hip_width: float = 1.0

    def __post_init__(self) -> None:
        if len(self.bone_scale) != len(SYNTH_JOINTS):
            raise MhpError(f"BodyShape.bone_scale needs {len(SYNTH_JOINTS)} factors, got {len(self.bone_scale)}")
        if min(self.height_scale, self.shoulder_width, self.hip_width, *self.bone_scale) <= 0:
            raise MhpError("BodyShape factors must be positive")

    @property
    def height_mm(self) -> float:
        return REFERENCE_HEIGHT_MM * self.height_scale


def sample_shape(rng: np.random.Generator) -> BodyShape:
    """A random body: height 1500-1950 mm, bone lengths +-5 %, shoulder and hip widths +-10 %."""
    height = rng.uniform(1500.0, 1950.0)
    bone = np.ones(len(SYNTH_JOINTS))
    for group, factor in zip(_BONE_GROUPS, rng.uniform(0.95, 1.05, len(_BONE_GROUPS)), strict=True):
        bone[[_J[n] for n in group]] = factor
    shoulder, hip = rng.uniform(0.9, 1.1, 2)
    return BodyShape(height / REFERENCE_HEIGHT_MM, tuple(float(b) for b in bone), float(shoulder), float(hip))


def body_offsets(shape: BodyShape) -> np.ndarray:
    """``(27, 3)`` bone offsets of ``shape`` relative to each joint's parent (Pelvis row is zero)."""
    offsets = REST_OFFSETS * shape.height_scale * np.asarray(shape.bone_scale)[:, None]
    offsets[[_J["L_Hip"], _J["R_Hip"]], 0] *= shape.hip_width
    offsets[[_J["L_Shoulder"], _J["R_Shoulder"]], 0] *= shape.shoulder_width
    return offsets


def axis_rotation(axis: int, angle_deg: np.ndarray | float) -> np.ndarray:
    """Right-handed rotation matrices ``(..., 3, 3)`` about coordinate axis 0/1/2 by ``angle_deg``."""
    a = np.radians(np.asarray(angle_deg, dtype=np.float64))
    c, s = np.cos(a), np.sin(a)
    i, j = ((1, 2), (2, 0), (0, 1))[axis]
    out = np.zeros((*a.shape, 3, 3))
    out[..., axis, axis] = 1.0
    out[..., i, i] = c
    out[..., j, j] = c
    out[..., i, j] = -s
    out[..., j, i] = s
    return out


def pose_limits() -> tuple[np.ndarray, np.ndarray]:
    """``(low, high)`` anatomical limits in degrees, each ``(POSE_SIZE,)``."""
    return _LOW.copy(), _HIGH.copy()


def _check_angles(angles: np.ndarray | list[float]) -> np.ndarray:
    angles = np.asarray(angles, dtype=np.float64)
    if angles.ndim < 1 or angles.shape[-1] != POSE_SIZE:
        raise MhpError(f"a pose needs {POSE_SIZE} joint angles in the last axis, got shape {angles.shape}")
    return angles


def pose_joints(shape: BodyShape, angles: np.ndarray | list[float]) -> np.ndarray:
    """Forward kinematics: ``(..., POSE_SIZE)`` angles to ``(..., 27, 3)`` body-frame joints (Pelvis at 0)."""
    angles = _check_angles(angles)
    lead = angles.shape[:-1]
    offsets = body_offsets(shape)
    local: dict[int, np.ndarray] = {}
    for k, (_, node, axis, sign, _, _) in enumerate(_DOFS):
        r = axis_rotation(axis, sign * angles[..., k])
        j = _J[node]
        local[j] = local[j] @ r if j in local else r
    glob = [np.broadcast_to(np.eye(3), (*lead, 3, 3))]
    pos = [np.zeros((*lead, 3))]
    for j in range(1, len(SYNTH_JOINTS)):
        p = PARENTS[j]
        pos.append(pos[p] + glob[p] @ offsets[j])
        glob.append(glob[p] @ local[j] if j in local else glob[p])
    return np.stack(pos, axis=-2)


def interpolate_pose(a: np.ndarray, b: np.ndarray, t: float | np.ndarray) -> np.ndarray:
    """Linear interpolation in joint angles; ``t`` may be an array ``(T,)`` giving ``(T, POSE_SIZE)``."""
    a, b = _check_angles(a), _check_angles(b)
    t = np.asarray(t, dtype=np.float64)[..., None]
    return (1.0 - t) * a + t * b


def _mode_mean_std(rng: np.random.Generator, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-angle means and noise standard deviations of one activity mode."""
    mean, std = np.zeros(POSE_SIZE), np.full(POSE_SIZE, 4.0)

    def put(name: str, m: float, s: float) -> None:
        mean[_P[name]], std[_P[name]] = m, s

    for name, m, s in (
        ("neck_twist", 0, 20),
        ("neck_flex", 5, 10),
        ("neck_lat", 0, 8),
        ("head_nod", 0, 8),
        ("spine_twist", 0, 6),
        ("spine_lat", 0, 6),
        ("thorax_lat", 0, 5),
    ):
        put(name, m, s)
    for lr in "lr":
        for name, m, s in (
            ("hip_abd", 5, 4),
            ("hip_rot", 5, 8),
            ("knee_flex", 5, 4),
            ("shoulder_flex", 5, 10),
            ("shoulder_abd", 10, 6),
            ("shoulder_rot", 0, 15),
            ("elbow_flex", 15, 10),
            ("wrist_flex", 0, 10),
        ):
            put(f"{lr}_{name}", m, s)
    if mode == "walking":
        phase, amp = rng.uniform(0, 2 * math.pi), rng.uniform(15, 35)
        run = rng.random() < 0.3
        for lr, leg_phase in (("r", phase), ("l", phase + math.pi)):
            swing = math.sin(leg_phase)
            put(f"{lr}_hip_flex", amp * swing * (1.4 if run else 1.0), 4)
            put(f"{lr}_knee_flex", 8 + (70 if run else 40) * max(0.0, math.sin(leg_phase + 0.8)), 6)
            put(f"{lr}_shoulder_flex", -0.8 * amp * swing, 6)
            put(f"{lr}_elbow_flex", 85 if run else 25, 10)
            put(f"{lr}_ankle_flex", 10 * swing, 5)
        put("thorax_twist", 6 * math.sin(phase), 3)
        put("spine_flex", 12 if run else 3, 4)
    elif mode == "sitting":
        for lr in "lr":
            for name, m, s in (
                ("hip_flex", 90, 8),
                ("knee_flex", 90, 12),
                ("hip_abd", 10, 6),
                ("ankle_flex", 0, 8),
                ("shoulder_flex", 30, 15),
                ("elbow_flex", 70, 20),
            ):
                put(f"{lr}_{name}", m, s)
        put("spine_flex", 5, 8)
    elif mode == "crouching":
        for lr in "lr":
            for name, m, s in (
                ("hip_flex", 100, 8),
                ("knee_flex", 125, 10),
                ("hip_abd", 20, 8),
                ("ankle_flex", 25, 5),
                ("shoulder_flex", 50, 20),
                ("elbow_flex", 60, 25),
            ):
                put(f"{lr}_{name}", m, s)
        put("spine_flex", 25, 8)
        put("thorax_flex", 15, 5)
        put("neck_flex", -15, 10)
    elif mode == "arms_raised":
        styles = rng.choice(3, size=2, p=(0.45, 0.35, 0.2))
        if styles.max() == 2 and styles.min() == 2:
            styles[0] = 0
        for lr, style in zip("lr", styles, strict=True):
            flex, abd = ((160, 20), (0, 90), (rng.uniform(0, 120), rng.uniform(20, 120)))[style]
            put(f"{lr}_shoulder_flex", flex, 10)
            put(f"{lr}_shoulder_abd", abd, 12)
            put(f"{lr}_elbow_flex", rng.uniform(0, 60), 10)
        put("neck_flex", -10, 10)
    elif mode == "reaching":
        a, b = ("l", "r") if rng.random() < 0.5 else ("r", "l")
        sideways = rng.random() < 0.35
        put(f"{a}_shoulder_flex", 10 if sideways else 90, 20)
        put(f"{a}_shoulder_abd", 85 if sideways else 10, 12)
        put(f"{a}_elbow_flex", 8, 8)
        twist = 1.0 if a == "l" else -1.0
        put("spine_twist", 10 * twist, 8)
        put("neck_twist", (60 if sideways else 25) * twist, 15)
        put("spine_flex", 10, 8)
        put(f"{b}_hip_flex", rng.uniform(0, 30), 5)
        put(f"{b}_knee_flex", rng.uniform(0, 30), 5)
    elif mode == "bending":
        put("spine_flex", 38, 5)
        put("thorax_flex", 22, 5)
        put("neck_flex", -20, 10)
        for lr in "lr":
            put(f"{lr}_shoulder_flex", 60, 15)
            put(f"{lr}_knee_flex", 15, 10)
    elif mode != "standing":
        raise MhpError(f"unknown pose mode {mode!r}; choose one of {', '.join(POSE_MODES)}")
    return mean, std


def sample_pose(rng: np.random.Generator, mode: str | None = None) -> np.ndarray:
    """A random ``(POSE_SIZE,)`` pose of an activity mode (random when ``None``), clipped to the limits."""
    if mode is None:
        mode = POSE_MODES[rng.choice(len(POSE_MODES), p=_MODE_PROBS)]
    if mode == "random":
        return rng.uniform(_LOW, _HIGH)
    mean, std = _mode_mean_std(rng, mode)
    return np.clip(mean + std * rng.standard_normal(POSE_SIZE), _LOW, _HIGH)


def body_to_camera(
    joints_body: np.ndarray, yaw_deg: float, pitch_deg: float, roll_deg: float, root_cam: np.ndarray
) -> np.ndarray:
    """Place body-frame joints in the camera: ``M0 R_y(yaw) R_x(pitch) R_z(roll)``, Pelvis at ``root_cam``.

    At zero angles the person stands upright facing the camera; positive pitch leans forward, positive yaw
    turns toward the person's left, positive roll tilts toward the person's right.
    """
    g = _BODY_TO_CAMERA @ axis_rotation(Y, yaw_deg) @ axis_rotation(X, pitch_deg) @ axis_rotation(Z, roll_deg)
    return np.asarray(joints_body, np.float64) @ g.T + np.asarray(root_cam, np.float64).reshape(3)


def body_to_world(joints_body: np.ndarray, yaw_deg: float, root_world: np.ndarray) -> np.ndarray:
    """Place body-frame joints in a z-up world (up -> +z, left -> +x, forward -> -y at yaw 0), yaw about z."""
    g = _BODY_TO_WORLD @ axis_rotation(Y, yaw_deg)
    return np.asarray(joints_body, np.float64) @ g.T + np.asarray(root_world, np.float64).reshape(3)


def sample_camera(rng: np.random.Generator, image_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Random intrinsics for a ``(W, H)`` image: ``fx = fy = U(1.0, 1.6) W``, principal within 2 % of centre."""
    w, h = image_size
    f = rng.uniform(1.0, 1.6) * w
    principal = np.array([w / 2.0, h / 2.0]) + rng.uniform(-0.02, 0.02, 2) * np.array([w, h], dtype=np.float64)
    return np.array([f, f]), principal


def sample_placement(
    rng: np.random.Generator, image_size: tuple[int, int], focal: np.ndarray, principal: np.ndarray
) -> tuple[float, float, float, np.ndarray]:
    """Random ``(yaw, pitch, roll, root_cam)``: any yaw, +-10 deg lean, root 3-7 m deep in the image centre."""
    w, h = image_size
    yaw, pitch, roll = rng.uniform(0.0, 360.0), rng.uniform(-10.0, 10.0), rng.uniform(-10.0, 10.0)
    depth = rng.uniform(3000.0, 7000.0)
    u, v = rng.uniform(0.3, 0.7) * w, rng.uniform(0.35, 0.65) * h
    root = np.array([(u - principal[0]) * depth / focal[0], (v - principal[1]) * depth / focal[1], depth])
    return float(yaw), float(pitch), float(roll), root


def look_at(
    position: np.ndarray, target: np.ndarray, up: tuple[float, float, float] = (0.0, 0.0, 1.0)
) -> tuple[np.ndarray, np.ndarray]:
    """World-to-camera ``(R, t)`` (``X_cam = R X_world + t``) of a camera at ``position`` facing ``target``."""
    position, target = np.asarray(position, np.float64), np.asarray(target, np.float64)
    forward = target - position
    right = np.cross(forward, np.asarray(up, np.float64))
    if np.linalg.norm(forward) < 1e-9 or np.linalg.norm(right) < 1e-9 * np.linalg.norm(forward):
        raise MhpError("look_at needs a target away from the camera and not along the up direction")
    z = forward / np.linalg.norm(forward)
    x = right / np.linalg.norm(right)
    rotation = np.stack([x, np.cross(z, x), z])
    return rotation, -rotation @ position


def joints_for(joint_set: JointSet, joints_synth: np.ndarray) -> np.ndarray:
    """Synthetic ``(..., 27, 3)`` joints as ``(..., J, 3)`` in ``joint_set`` order (names via FORMAT_ALIASES)."""
    joints = np.asarray(joints_synth, dtype=np.float64)
    if joints.ndim < 2 or joints.shape[-2] != len(SYNTH_JOINTS):
        raise MhpError(f"joints_for expected (..., {len(SYNTH_JOINTS)}, C) synthetic joints, got {joints.shape}")
    if joint_set.name not in FORMAT_ALIASES:
        raise MhpError(f"no synthetic mapping for joint set {joint_set.name!r}; known: {', '.join(FORMAT_ALIASES)}")
    aliases, midpoints = FORMAT_ALIASES[joint_set.name], _MIDPOINTS.get(joint_set.name, {})
    out = []
    for name in joint_set.joints:
        if name in midpoints:
            a, b = midpoints[name]
            out.append((joints[..., _J[a], :] + joints[..., _J[b], :]) / 2.0)
            continue
        synth = aliases.get(name, name)
        if synth not in _J:
            raise MhpError(f"joint {name!r} of the {joint_set.name} set has no synthetic counterpart")
        out.append(joints[..., _J[synth], :])
    return np.stack(out, axis=-2)
