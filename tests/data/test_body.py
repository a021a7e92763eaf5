"""The synthetic-humans body model: rest pose, anatomical signs, pose sampling, placement, cameras, formats."""

import numpy as np
import pytest

from mhp.data.body import (
    PARENTS,
    POSE_MODES,
    POSE_PARAMS,
    POSE_SIZE,
    REST_OFFSETS,
    SYNTH_JOINTS,
    BodyShape,
    body_offsets,
    body_to_camera,
    body_to_world,
    interpolate_pose,
    joints_for,
    look_at,
    pose_joints,
    pose_limits,
    sample_camera,
    sample_placement,
    sample_pose,
    sample_shape,
)
from mhp.errors import MhpError
from mhp.skeleton import JOINT_SETS

J = {name: i for i, name in enumerate(SYNTH_JOINTS)}


def angles(**named: float) -> np.ndarray:
    out = np.zeros(POSE_SIZE)
    for name, value in named.items():
        out[POSE_PARAMS.index(name)] = value
    return out


def bone_lengths(joints: np.ndarray) -> np.ndarray:
    return np.linalg.norm(joints[..., 1:, :] - joints[..., list(PARENTS[1:]), :], axis=-1)


def test_joint_names_and_layout():
    assert len(SYNTH_JOINTS) == 27
    assert SYNTH_JOINTS[:5] == ("Pelvis", "R_Hip", "R_Knee", "R_Ankle", "R_Toe")
    assert SYNTH_JOINTS[-4:] == ("R_Shoulder", "R_Elbow", "R_Wrist", "R_Hand")
    assert POSE_SIZE == len(POSE_PARAMS) == 30
    low, high = pose_limits()
    assert low.shape == high.shape == (POSE_SIZE,)
    assert (low < high).all()
    assert (low[POSE_PARAMS.index("r_knee_flex")], high[POSE_PARAMS.index("r_knee_flex")]) == (0, 140)
    assert (low[POSE_PARAMS.index("l_shoulder_flex")], high[POSE_PARAMS.index("l_shoulder_flex")]) == (-40, 170)


def test_rest_pose_bone_lengths_follow_the_shape():
    shape = sample_shape(np.random.default_rng(0))
    assert 1500 <= shape.height_mm <= 1950
    rest = pose_joints(shape, np.zeros(POSE_SIZE))
    offsets = body_offsets(shape)
    np.testing.assert_allclose(rest[1:] - rest[list(PARENTS[1:])], offsets[1:], atol=1e-9)
    np.testing.assert_allclose(rest[J["Pelvis"]], 0.0)
    knee = offsets[J["L_Knee"]]
    assert knee[0] == knee[2] == 0
    assert knee[1] == pytest.approx(-430 * shape.height_scale * shape.bone_scale[J["L_Knee"]])
    hip = offsets[J["L_Hip"]]
    assert hip[0] == pytest.approx(100 * shape.height_scale * shape.bone_scale[J["L_Hip"]] * shape.hip_width)
    reference = pose_joints(BodyShape(), np.zeros(POSE_SIZE))
    np.testing.assert_allclose(reference[1:] - reference[list(PARENTS[1:])], REST_OFFSETS[1:])
    np.testing.assert_allclose(reference[J["Head_top"]], [0, 770, 10])


def test_shapes_stay_in_range_and_symmetric():
    rng = np.random.default_rng(1)
    for _ in range(50):
        s = sample_shape(rng)
        assert 1500 / 1750 <= s.height_scale <= 1950 / 1750
        assert all(0.95 <= b <= 1.05 for b in s.bone_scale)
        assert 0.9 <= s.shoulder_width <= 1.1
        assert 0.9 <= s.hip_width <= 1.1
        assert s.bone_scale[J["L_Knee"]] == s.bone_scale[J["R_Knee"]]
    with pytest.raises(MhpError):
        BodyShape(bone_scale=(1.0,) * 3)
    with pytest.raises(MhpError):
        BodyShape(height_scale=-1.0)


def test_left_joints_are_at_plus_x_at_rest():
    rest = pose_joints(BodyShape(), np.zeros(POSE_SIZE))
    for name, i in J.items():
        if name.startswith("L_"):
            assert rest[i, 0] > 0, name
            np.testing.assert_allclose(rest[J["R_" + name[2:]]], rest[i] * [-1, 1, 1])


def test_thorax_is_the_shoulder_midpoint_for_random_poses():
    rng = np.random.default_rng(2)
    poses = np.stack([sample_pose(rng) for _ in range(100)])
    joints = pose_joints(sample_shape(rng), poses)
    mid = (joints[:, J["L_Shoulder"]] + joints[:, J["R_Shoulder"]]) / 2
    np.testing.assert_allclose(joints[:, J["Thorax"]], mid, atol=1e-9)


def test_batched_kinematics_match_single_poses_and_keep_bone_lengths():
    rng = np.random.default_rng(3)
    shape = sample_shape(rng)
    poses = np.stack([sample_pose(rng) for _ in range(8)])
    batch = pose_joints(shape, poses)
    assert batch.shape == (8, 27, 3)
    for pose, joints in zip(poses, batch, strict=True):
        np.testing.assert_allclose(pose_joints(shape, pose), joints)
        np.testing.assert_allclose(bone_lengths(joints), np.linalg.norm(body_offsets(shape)[1:], axis=-1))
    with pytest.raises(MhpError):
        pose_joints(shape, np.zeros(7))


def test_hip_flexion_puts_the_knee_in_front_at_hip_height():
    for side in ("l", "r"):
        j = pose_joints(BodyShape(), angles(**{f"{side}_hip_flex": 90}))
        hip, knee = j[J[f"{side.upper()}_Hip"]], j[J[f"{side.upper()}_Knee"]]
        np.testing.assert_allclose(knee - hip, [0, 0, 430], atol=1e-9)


def test_knee_flexion_puts_the_ankle_behind_the_knee():
    j = pose_joints(BodyShape(), angles(r_knee_flex=90, l_knee_flex=45))
    np.testing.assert_allclose(j[J["R_Ankle"]] - j[J["R_Knee"]], [0, 0, -420], atol=1e-9)
    assert j[J["L_Ankle"], 2] < j[J["L_Knee"], 2] - 200
    # With the thigh forward, the bent shin hangs down again.
    sit = pose_joints(BodyShape(), angles(l_hip_flex=90, l_knee_flex=90))
    np.testing.assert_allclose(sit[J["L_Ankle"]] - sit[J["L_Knee"]], [0, -420, 0], atol=1e-9)


def test_elbow_flexion_puts_the_wrist_in_front():
    j = pose_joints(BodyShape(), angles(l_elbow_flex=90, r_elbow_flex=90))
    for side in ("L", "R"):
        np.testing.assert_allclose(j[J[f"{side}_Wrist"]] - j[J[f"{side}_Elbow"]], [0, 0, 260], atol=1e-9)


def test_shoulder_flexion_raises_the_arm_forward_and_up():
    j = pose_joints(BodyShape(), angles(l_shoulder_flex=90))
    np.testing.assert_allclose(j[J["L_Elbow"]] - j[J["L_Shoulder"]], [0, 0, 290], atol=1e-9)
    up = pose_joints(BodyShape(), angles(r_shoulder_flex=170))
    assert up[J["R_Hand"], 1] > up[J["Head_top"], 1]


@pytest.mark.parametrize(("dof", "joint"), [("hip_abd", "Knee"), ("shoulder_abd", "Elbow")])
def test_abduction_moves_limbs_away_from_the_midline(dof, joint):
    rest = pose_joints(BodyShape(), np.zeros(POSE_SIZE))
    j = pose_joints(BodyShape(), angles(**{f"l_{dof}": 30, f"r_{dof}": 30}))
    assert j[J[f"L_{joint}"], 0] > rest[J[f"L_{joint}"], 0] + 100
    assert j[J[f"R_{joint}"], 0] < rest[J[f"R_{joint}"], 0] - 100
    np.testing.assert_allclose(j[J[f"L_{joint}"]], j[J[f"R_{joint}"]] * [-1, 1, 1], atol=1e-9)


def test_internal_rotation_turns_the_forearm_to_the_midline():
    j = pose_joints(BodyShape(), angles(l_elbow_flex=90, l_shoulder_rot=45, r_elbow_flex=90, r_shoulder_rot=45))
    assert j[J["L_Wrist"], 0] < j[J["L_Elbow"], 0]
    assert j[J["R_Wrist"], 0] > j[J["R_Elbow"], 0]


def test_trunk_flexion_and_neck_twist():
    bent = pose_joints(BodyShape(), angles(spine_flex=40, thorax_flex=20))
    assert bent[J["Head"], 2] > 300
    turned = pose_joints(BodyShape(), angles(neck_twist=60))
    assert turned[J["Nose"], 0] > 50  # twist turns toward the person's left
    ankle = pose_joints(BodyShape(), angles(l_ankle_flex=30))
    assert ankle[J["L_Toe"], 1] > pose_joints(BodyShape(), np.zeros(POSE_SIZE))[J["L_Toe"], 1]


def test_sampled_poses_stay_in_limits_are_deterministic_and_diverse():
    low, high = pose_limits()
    rng = np.random.default_rng(4)
    poses = np.stack([sample_pose(rng) for _ in range(200)])
    assert ((poses >= low) & (poses <= high)).all()
    again = np.random.default_rng(4)
    np.testing.assert_array_equal(poses, np.stack([sample_pose(again) for _ in range(200)]))
    col = {name: poses[:, i] for i, name in enumerate(POSE_PARAMS)}
    seated = (col["l_hip_flex"] > 60) & (col["r_hip_flex"] > 60) & (col["l_knee_flex"] > 60)
    raised = (col["l_shoulder_flex"] > 120) | (col["r_shoulder_flex"] > 120)
    arms_out = (col["l_shoulder_abd"] > 60) | (col["r_shoulder_abd"] > 60)
    bent = col["spine_flex"] + col["thorax_flex"] > 40
    stride = np.abs(col["l_hip_flex"] - col["r_hip_flex"]) > 20
    upright = (np.abs(poses[:, :10]).max(axis=1) < 30) & ~raised & ~arms_out
    for group in (seated, raised, arms_out, bent, stride, upright):
        assert 5 <= group.sum() <= 150
    assert (poses.std(axis=0) > 4).all()


@pytest.mark.parametrize("mode", POSE_MODES)
def test_every_mode_samples_within_limits(mode):
    low, high = pose_limits()
    rng = np.random.default_rng(5)
    poses = np.stack([sample_pose(rng, mode) for _ in range(20)])
    assert ((poses >= low) & (poses <= high)).all()
    with pytest.raises(MhpError):
        sample_pose(rng, "flying")


def test_interpolate_pose_is_linear():
    rng = np.random.default_rng(6)
    a, b = sample_pose(rng), sample_pose(rng)
    np.testing.assert_allclose(interpolate_pose(a, b, 0.0), a)
    np.testing.assert_allclose(interpolate_pose(a, b, 1.0), b)
    np.testing.assert_allclose(interpolate_pose(a, b, 0.25), 0.75 * a + 0.25 * b)
    seq = interpolate_pose(a, b, np.linspace(0, 1, 5))
    assert seq.shape == (5, POSE_SIZE)
    np.testing.assert_allclose(seq[2], (a + b) / 2)


def test_body_to_camera_faces_the_camera_at_yaw_zero():
    body = pose_joints(BodyShape(), angles(l_shoulder_abd=20, r_shoulder_abd=20))
    root = np.array([100.0, -50.0, 4000.0])
    cam = body_to_camera(body, 0, 0, 0, root)
    np.testing.assert_allclose(cam[J["Pelvis"]], root)
    assert cam[J["L_Hand"], 0] > cam[J["R_Hand"], 0]
    assert cam[J["Head"], 1] < cam[J["Pelvis"], 1]
    assert cam[J["Nose"], 2] < cam[J["Head"], 2]
    np.testing.assert_allclose(cam - root, body * [1, -1, -1])
    back = body_to_camera(body, 180, 0, 0, root)
    assert back[J["Nose"], 2] > back[J["Head"], 2]
    assert back[J["L_Hand"], 0] < back[J["R_Hand"], 0]
    side = body_to_camera(body, 90, 0, 0, root)  # turned to the person's left: faces camera +x
    assert side[J["Nose"], 0] > side[J["Head"], 0]
    lean = body_to_camera(body, 0, 10, 0, root)  # leaning forward brings the head toward the camera
    assert lean[J["Head"], 2] < cam[J["Head"], 2]


def test_transforms_preserve_bone_lengths():
    rng = np.random.default_rng(7)
    shape = sample_shape(rng)
    body = pose_joints(shape, sample_pose(rng))
    lengths = bone_lengths(body)
    for _ in range(5):
        yaw, pitch, roll = rng.uniform(-180, 180, 3)
        np.testing.assert_allclose(bone_lengths(body_to_camera(body, yaw, pitch, roll, rng.normal(size=3))), lengths)
        np.testing.assert_allclose(bone_lengths(body_to_world(body, yaw, rng.normal(size=3))), lengths)


def test_body_to_world_is_z_up():
    body = pose_joints(BodyShape(), np.zeros(POSE_SIZE))
    world = body_to_world(body, 0.0, [10.0, 20.0, 900.0])
    np.testing.assert_allclose(world[J["Pelvis"]], [10, 20, 900])
    assert world[J["Head_top"], 2] > world[J["Pelvis"], 2] + 700
    assert world[J["L_Hip"], 0] > world[J["R_Hip"], 0]
    assert world[J["Nose"], 1] < world[J["Head"], 1]  # facing -y
    turned = body_to_world(body, 90.0, [0.0, 0.0, 0.0])
    assert turned[J["Nose"], 0] > turned[J["Head"], 0] + 50  # yaw about +z turns -y toward +x
    np.testing.assert_allclose(turned[:, 2], world[:, 2] - 900)


def test_look_at_points_the_camera_at_the_target():
    position, target = np.array([3000.0, -4000.0, 1600.0]), np.array([200.0, 300.0, 900.0])
    rotation, translation = look_at(position, target)
    np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(rotation) == pytest.approx(1.0)
    np.testing.assert_allclose(rotation @ position + translation, 0, atol=1e-9)
    target_cam = rotation @ target + translation
    np.testing.assert_allclose(target_cam[:2], 0, atol=1e-9)
    assert target_cam[2] == pytest.approx(np.linalg.norm(target - position))
    above = rotation @ (target + np.array([0, 0, 500])) + translation
    assert above[1] < 0  # world up is image up (camera y points down)
    # Looking along +y with z up, world +x is to the right.
    rotation, _ = look_at([0, -5000, 1000], [0, 0, 1000])
    np.testing.assert_allclose(rotation[0], [1, 0, 0], atol=1e-12)
    with pytest.raises(MhpError):
        look_at([0, 0, 0], [0, 0, 10])


def test_camera_and_placement_sampling():
    rng = np.random.default_rng(8)
    size = (640, 480)
    for _ in range(50):
        focal, principal = sample_camera(rng, size)
        assert focal[0] == focal[1]
        assert 640 <= focal[0] <= 1.6 * 640
        np.testing.assert_array_less(np.abs(principal - [320, 240]), [0.02 * 640 + 1e-9, 0.02 * 480 + 1e-9])
        yaw, pitch, roll, root = sample_placement(rng, size, focal, principal)
        assert 0 <= yaw <= 360
        assert max(abs(pitch), abs(roll)) <= 10
        assert 3000 <= root[2] <= 7000
        u, v = root[:2] / root[2] * focal + principal
        assert 0.3 * 640 - 1e-6 <= u <= 0.7 * 640 + 1e-6
        assert 0.35 * 480 - 1e-6 <= v <= 0.65 * 480 + 1e-6


@pytest.mark.parametrize("name", list(JOINT_SETS))
def test_joints_for_every_joint_set(name):
    joint_set = JOINT_SETS[name]
    rng = np.random.default_rng(9)
    synth = pose_joints(sample_shape(rng), sample_pose(rng)) + np.array([50.0, 0.0, 4000.0])
    out = joints_for(joint_set, synth)
    assert out.shape == (joint_set.num_joints, 3)
    renamed = {("H36M", "Head"), ("MPII", "Head"), ("COCO", "Pelvis")}
    for i, joint in enumerate(joint_set.joints):
        if joint in SYNTH_JOINTS and (name, joint) not in renamed:
            np.testing.assert_array_equal(out[i], synth[J[joint]])
    assert joints_for(joint_set, np.stack([synth, synth])).shape == (2, joint_set.num_joints, 3)
    if "Thorax" in joint_set.joints:
        mid = (synth[J["L_Shoulder"]] + synth[J["R_Shoulder"]]) / 2
        np.testing.assert_allclose(out[joint_set.index("Thorax")], mid, atol=1e-9)


def test_joints_for_aliases():
    synth = pose_joints(BodyShape(), sample_pose(np.random.default_rng(10)))
    h36m = joints_for(JOINT_SETS["H36M"], synth)
    np.testing.assert_array_equal(h36m[JOINT_SETS["H36M"].index("Head")], synth[J["Head_top"]])
    np.testing.assert_array_equal(h36m[JOINT_SETS["H36M"].index("Torso")], synth[J["Spine"]])
    mpii = joints_for(JOINT_SETS["MPII"], synth)
    np.testing.assert_array_equal(mpii[JOINT_SETS["MPII"].index("Head")], synth[J["Head_top"]])
    coco = joints_for(JOINT_SETS["COCO"], synth)
    hip_mid = (synth[J["L_Hip"]] + synth[J["R_Hip"]]) / 2
    np.testing.assert_allclose(coco[JOINT_SETS["COCO"].index("Pelvis")], hip_mid)
    assert not np.allclose(hip_mid, synth[J["Pelvis"]])
    muco = joints_for(JOINT_SETS["MUCO"], synth)
    np.testing.assert_array_equal(muco[JOINT_SETS["MUCO"].index("Head")], synth[J["Head"]])


def test_joints_for_rejects_unknown_sets_and_shapes():
    from mhp.skeleton import JointSet

    odd = JointSet("ODD", ("Pelvis", "Tail"), (), (), 0, True)
    synth = np.zeros((27, 3))
    with pytest.raises(MhpError):
        joints_for(odd, synth)
    with pytest.raises(MhpError):
        joints_for(JOINT_SETS["H36M"], np.zeros((17, 3)))
