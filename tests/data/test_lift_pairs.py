import numpy as np
import pytest

from mhp.data import read_dataset
from mhp.data.lift_pairs import PosePairs, pairs_from_annotations, synthetic_pairs
from mhp.errors import MhpError
from mhp.skeleton import H36M, MPII, MUCO


def test_synthetic_pairs_are_projections_of_their_3d_poses():
    pairs = synthetic_pairs(50, seed=3, joint_set=H36M)
    assert len(pairs) == 50
    assert pairs.joints_2d.shape == (50, 18, 2)
    assert np.all(pairs.joints_3d[:, H36M.root] == 0)
    assert pairs.visible.all()
    # mostly inside the 1000 px frame, and a person's 2D size shrinks with depth like a pinhole's
    assert np.mean((pairs.joints_2d > 0) & (pairs.joints_2d < 1000)) > 0.95
    height_2d = np.ptp(pairs.joints_2d[..., 1], axis=1)
    height_3d = np.ptp(pairs.joints_3d[..., 1], axis=1)
    assert np.all(height_2d < height_3d)  # focal 1000-1600 px, depth 3-7 m: well under one pixel per mm
    again = synthetic_pairs(50, seed=3, joint_set=H36M)
    np.testing.assert_array_equal(again.joints_2d, pairs.joints_2d)
    assert not np.array_equal(synthetic_pairs(50, seed=4, joint_set=H36M).joints_2d, pairs.joints_2d)


def test_pairs_from_a_3d_reader_keep_its_2d_and_root_relative_3d(synthetic_folders):
    table = read_dataset("h36m", synthetic_folders["h36m"][0], "test", protocol=2)
    pairs = pairs_from_annotations(table, H36M)
    np.testing.assert_allclose(pairs.joints_2d, table.joints_img[..., :2])
    np.testing.assert_allclose(pairs.joints_3d, table.joints_cam - table.joints_cam[:, :1])
    muco = pairs_from_annotations(table, MUCO)  # into another set by joint name: MuCo's extra joints are absent
    assert muco.visible[:, MUCO.index("Pelvis")].all()
    assert not muco.visible[:, MUCO.index("R_Hand")].any()
    assert len(muco.complete()) == 0
    assert len(pairs.complete()) == len(table)


def test_pairs_from_a_2d_reader_have_no_3d(synthetic_folders):
    table = read_dataset("mpii", synthetic_folders["mpii"][0], "train")
    pairs = pairs_from_annotations(table, MPII)
    assert pairs.joints_3d is None
    np.testing.assert_array_equal(pairs.visible, table.joints_vis > 0)
    complete = pairs.complete()
    assert complete.visible.all()
    assert len(complete) == int((table.joints_vis > 0).all(axis=1).sum())


def test_mismatched_arrays_are_a_clear_error():
    with pytest.raises(MhpError, match=r"need \(N, 18, 2/3\) joints"):
        PosePairs(H36M, np.zeros((4, 17, 2)), None, np.ones((4, 18), bool))
