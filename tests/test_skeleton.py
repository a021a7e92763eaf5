"""Joint sets (reference §8) and remapping by name."""

import numpy as np
import pytest

from mhp import skeleton as sk
from mhp.errors import MhpError


def test_sizes_roots_and_spec_facts():
    assert [s.num_joints for s in sk.JOINT_SETS.values()] == [18, 16, 19, 21, 17]
    assert sk.H36M.root_name == "Pelvis"
    assert sk.MUCO.root_name == "Pelvis"
    assert sk.MUPOTS.root == 14
    assert sk.H36M.joints[17] == "Thorax"
    assert len(sk.H36M.bones) == 16
    assert len(sk.MUCO.bones) == 20
    assert sk.MUPOTS.joints == sk.MUCO.joints[:17]
    assert len(sk.MUPOTS.bones) == 16
    assert sk.MUPOTS.flip_pairs == ((2, 5), (3, 6), (4, 7), (8, 11), (9, 12), (10, 13))
    assert not sk.MPII.has_depth
    assert not sk.COCO.has_depth
    assert sk.H36M.has_depth


@pytest.mark.parametrize("joint_set", list(sk.JOINT_SETS.values()), ids=list(sk.JOINT_SETS))
def test_flip_pairs_swap_left_and_right(joint_set):
    perm = joint_set.flip_permutation()
    assert sorted(perm) == list(range(joint_set.num_joints))
    assert np.array_equal(perm[perm], np.arange(joint_set.num_joints))
    for a, b in joint_set.flip_pairs:
        left, right = sorted([joint_set.joints[a], joint_set.joints[b]])
        assert left.startswith("L_")
        assert right.startswith("R_")
        assert left[2:] == right[2:]


def test_mpii_into_h36m_by_name():
    pairs = dict(sk.joint_mapping(sk.MPII, sk.H36M))
    assert len(pairs) == 16
    assert pairs[sk.MPII.index("Head")] == 10
    assert pairs[sk.MPII.index("Thorax")] == 17
    coords = np.arange(16 * 3, dtype=float).reshape(16, 3) + 1
    vis = np.ones((16, 1))
    out, out_vis = sk.remap_joints(coords, sk.MPII, sk.H36M), sk.remap_joints(vis, sk.MPII, sk.H36M)
    assert out.shape == (18, 3)
    for name in ("Torso", "Nose"):  # no MPII supervision
        i = sk.H36M.index(name)
        assert not out[i].any()
        assert out_vis[i, 0] == 0
    assert np.array_equal(out[sk.H36M.index("L_Wrist")], coords[sk.MPII.index("L_Wrist")])


def test_coco_into_muco_keeps_14_joints():
    assert len(sk.joint_mapping(sk.COCO, sk.MUCO)) == 14
    batch = np.random.default_rng(0).normal(size=(5, 19, 3))
    out = sk.remap_joints(batch, sk.COCO, sk.MUCO)
    assert out.shape == (5, 21, 3)
    assert np.array_equal(out[:, sk.MUCO.index("Pelvis")], batch[:, sk.COCO.index("Pelvis")])
    assert not out[:, sk.MUCO.index("Head_top")].any()


def test_round_trip_through_a_superset():
    x = np.random.default_rng(1).normal(size=(17, 3))
    assert np.array_equal(sk.remap_joints(sk.remap_joints(x, sk.MUPOTS, sk.MUCO), sk.MUCO, sk.MUPOTS), x)


def test_errors_name_the_problem():
    with pytest.raises(MhpError, match=r"expected .*18, C"):
        sk.remap_joints(np.zeros((17, 3)), sk.H36M, sk.MUCO)
    with pytest.raises(MhpError, match="'Elbow' is not in the H36M set"):
        sk.H36M.index("Elbow")
    with pytest.raises(MhpError, match="unknown joint set 'h36'"):
        sk.get_joint_set("h36")
    assert sk.get_joint_set("muco") is sk.MUCO
