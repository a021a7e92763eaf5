import json

import numpy as np
import pytest

from mhp.data.body import joints_for, pose_joints, sample_pose, sample_shape
from mhp.errors import MhpError
from mhp.limbs import bone_lengths, limb_prior, path_length_mm, plausibility, read_limb_prior, write_limb_prior
from mhp.skeleton import H36M, MUPOTS


def synthetic_poses(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([joints_for(H36M, pose_joints(sample_shape(rng), sample_pose(rng))) for _ in range(n)])


def test_bone_lengths_of_a_known_skeleton():
    joints = np.zeros((H36M.num_joints, 3))
    joints[7] = [0, -200, 0]  # Torso above the Pelvis
    joints[1] = [-100, 0, 0]  # R_Hip
    lengths = bone_lengths(joints, H36M.bones)
    assert lengths[H36M.bones.index((0, 7))] == 200
    assert lengths[H36M.bones.index((0, 1))] == 100
    assert lengths.shape == (len(H36M.bones),)


def test_prior_statistics_equal_numpy_on_visible_bones_only():
    poses = synthetic_poses(40)
    visible = np.ones((40, H36M.num_joints))
    visible[:10, 3] = 0  # R_Ankle hidden in 10 poses: the R_Knee-R_Ankle bone counts 30 samples
    prior = limb_prior(poses, H36M, visible)
    shin = H36M.bones.index((2, 3))
    lengths = bone_lengths(poses, H36M.bones)
    assert prior.samples[shin] == 30
    assert prior.mean_mm[shin] == pytest.approx(lengths[10:, shin].mean())
    assert prior.std_mm[shin] == pytest.approx(lengths[10:, shin].std(ddof=1))
    thigh = H36M.bones.index((1, 2))
    assert prior.samples[thigh] == 40
    assert prior.std_mm[thigh] == pytest.approx(lengths[:, thigh].std(ddof=1))
    # synthetic bodies are 1500-1950 mm tall: thighs of about 400 mm with a few percent spread
    assert 300 < prior.mean_mm[thigh] < 500
    assert 0 < prior.std_mm[thigh] < 0.15 * prior.mean_mm[thigh]


def test_plausibility_of_the_training_poses_and_of_stretched_ones():
    poses = synthetic_poses(200)
    prior = limb_prior(poses, H36M)
    own = plausibility(poses, prior)
    assert own["within_2sigma"] > 0.9  # about 95 % for normal lengths
    stretched = poses.copy()
    stretched[:, 3] = poses[:, 2] + 2.0 * (poses[:, 3] - poses[:, 2])  # every shin twice as long
    worse = plausibility(stretched, prior)
    shin = H36M.bones.index((2, 3))
    assert worse["within_2sigma"] == pytest.approx(own["within_2sigma"] - 1 / len(H36M.bones), abs=0.01)
    expected = own["bone_error_mm"] + (prior.mean_mm[shin] - 0) / len(H36M.bones)  # each shin gains ~its length
    assert worse["bone_error_mm"] == pytest.approx(expected, rel=0.1)


def test_prior_file_round_trip_and_clear_errors(tmp_path):
    prior = limb_prior(synthetic_poses(20), H36M, source="synthetic")
    path = write_limb_prior(tmp_path / "prior.json", prior)
    assert read_limb_prior(path) == prior
    content = json.loads(path.read_text())
    assert content["bone_names"][0] == "Pelvis-Torso"

    def broken(edit) -> str:
        bad = json.loads(path.read_text())
        edit(bad)
        target = tmp_path / "bad.json"
        target.write_text(json.dumps(bad))
        with pytest.raises(MhpError) as info:
            read_limb_prior(target)
        assert "\n" not in str(info.value)
        return str(info.value)

    assert "not an mhp-limb-prior v1 file" in broken(lambda c: c.update(format="other"))
    assert "missing or malformed" in broken(lambda c: c.pop("std_mm"))
    assert "missing or malformed" in broken(lambda c: c.update(mean_mm=["long"] * len(prior.mean_mm)))
    assert "not those of the H36M set" in broken(lambda c: c.update(mean_mm=c["mean_mm"][:-1]))
    assert "must be positive" in broken(lambda c: c.update(mean_mm=[float("nan")] * len(prior.mean_mm)))
    assert "unknown joint set" in broken(lambda c: c.update(joint_set="SMPL"))
    (tmp_path / "cut.json").write_text(path.read_text()[:40])
    with pytest.raises(MhpError, match="not valid JSON"):
        read_limb_prior(tmp_path / "cut.json")


def test_wrong_shapes_and_too_few_samples_are_clear_errors():
    with pytest.raises(MhpError, match=r"should be \(N, 18, 3\) for the H36M set"):
        limb_prior(np.zeros((5, 17, 3)), H36M)
    with pytest.raises(MhpError, match="needs at least 2"):
        limb_prior(synthetic_poses(1), H36M)
    prior = limb_prior(synthetic_poses(5), H36M)
    with pytest.raises(MhpError, match="predicted poses"):
        plausibility(np.zeros((3, MUPOTS.num_joints, 3)), prior)


def test_root_to_head_path_adds_the_mean_bones():
    poses = np.zeros((4, 18, 3))
    for (a, b), length in zip(H36M.bones, np.arange(1, 17) * 10.0, strict=True):
        poses[:, b] = poses[:, a] + [length, 0, 0]  # every bone along x: lengths exact
    prior = limb_prior(poses + np.random.default_rng(0).normal(0, 1e-9, poses.shape), H36M)
    # Pelvis-Torso 10, Torso-Neck 20, Neck-Nose 30, Nose-Head 40
    assert path_length_mm(prior, H36M, 0, 10) == pytest.approx(100.0)
