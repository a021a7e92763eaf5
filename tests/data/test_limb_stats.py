"""``mhp-data stats``: the limb prior of a dataset's 3D poses, its table, its file and its errors."""

import numpy as np
import pytest

from mhp.cli.data import main
from mhp.data import read_dataset
from mhp.data.io import DatasetError
from mhp.data.lift_pairs import synthetic_pairs
from mhp.data.limb_stats import dataset_limb_prior, prior_table, synthetic_limb_prior
from mhp.limbs import read_limb_prior
from mhp.skeleton import H36M, MUCO, MUPOTS, remap_joints


def numpy_stats(poses: np.ndarray, bones) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.linalg.norm(poses[:, [b for _, b in bones]] - poses[:, [a for a, _ in bones]], axis=-1)
    return lengths.mean(axis=0), lengths.std(axis=0, ddof=1)


def test_synthetic_prior_equals_numpy_on_the_same_poses():
    prior = synthetic_limb_prior(300, 7, H36M)
    mean, std = numpy_stats(synthetic_pairs(300, 7, H36M).joints_3d, H36M.bones)
    assert prior.mean_mm == pytest.approx(mean, rel=1e-9)
    assert prior.std_mm == pytest.approx(std, rel=1e-9)
    assert prior.samples == (300,) * len(H36M.bones)
    assert prior.source == "synthetic humans, 300 poses, seed 7"
    left, right = H36M.bones.index((11, 12)), H36M.bones.index((14, 15))  # the upper arms
    assert prior.mean_mm[left] == pytest.approx(prior.mean_mm[right])  # the body model is symmetric
    assert 200 < prior.mean_mm[left] < 400
    assert 5 < prior.std_mm[left] < 60
    assert synthetic_limb_prior(300, 7, MUCO).joint_set == "MUCO"


def test_dataset_prior_equals_numpy_on_the_table(synthetic_folders):
    root, _ = synthetic_folders["h36m"]
    table = read_dataset("h36m", root, "train", protocol=2)
    prior = dataset_limb_prior("h36m", root, protocol=2)
    mean, std = numpy_stats(table.joints_cam.astype(np.float64), H36M.bones)
    assert prior.mean_mm == pytest.approx(mean, rel=1e-6)
    assert prior.std_mm == pytest.approx(std, rel=1e-5)
    assert prior.samples == (len(table),) * len(H36M.bones)
    assert prior.source == f"h36m train protocol 2, {len(table)} poses"
    muco_root, _ = synthetic_folders["muco"]
    remapped = dataset_limb_prior("muco", muco_root, joint_set=MUPOTS)  # MuCo's poses on the MuPoTS bones
    muco = read_dataset("muco", muco_root, "train")
    mean, _ = numpy_stats(remap_joints(muco.joints_cam, MUCO, MUPOTS).astype(np.float64), MUPOTS.bones)
    assert remapped.joint_set == "MUPOTS"
    assert remapped.mean_mm == pytest.approx(mean, rel=1e-6)
    mupots_root, _ = synthetic_folders["mupots"]
    assert dataset_limb_prior("mupots", mupots_root).source.startswith("mupots test,")  # its only split


def test_two_d_datasets_and_joints_a_dataset_lacks_are_refused(synthetic_folders):
    with pytest.raises(DatasetError, match="mpii is a 2D dataset"):
        dataset_limb_prior("mpii", synthetic_folders["mpii"][0])
    with pytest.raises(DatasetError, match=r"h36m poses lack Head_top, .*choose a --joint-set they cover"):
        dataset_limb_prior("h36m", synthetic_folders["h36m"][0], joint_set=MUCO)


def test_table_lists_every_bone():
    prior = synthetic_limb_prior(20, 0, H36M)
    lines = prior_table(prior).splitlines()
    assert lines[0].split() == ["bone", "mean", "mm", "std", "mm", "samples"]
    assert len(lines) == 1 + len(H36M.bones)
    name, mean, std, samples = lines[1].split()
    assert name == "Pelvis-Torso"
    assert (float(mean), float(std), int(samples)) == (
        round(prior.mean_mm[0], 1),
        round(prior.std_mm[0], 1),
        20,
    )


def test_cli_round_trip(synthetic_folders, tmp_path, capsys):
    out = tmp_path / "synthetic.json"
    assert main(["stats", "--data", "synthetic", "--samples", "50", "--seed", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert read_limb_prior(out) == synthetic_limb_prior(50, 3, H36M)
    assert "L_Elbow-L_Wrist" in printed
    assert f"wrote {out}" in printed
    root, _ = synthetic_folders["h36m"]
    out = tmp_path / "h36m.json"
    argv = ["stats", "--data", f"h36m={root}", "--split", "test", "--protocol", "1"]
    assert main([*argv, "--out", str(out)]) == 0
    assert read_limb_prior(out) == dataset_limb_prior("h36m", root, "test", protocol=1)
    assert "h36m test protocol 1" in capsys.readouterr().out


def test_cli_errors_are_one_line(synthetic_folders, tmp_path, capsys):
    def error(*argv: str) -> str:
        assert main(["stats", *argv, "--out", str(tmp_path / "p.json")]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        return err

    assert "mpii is a 2D dataset" in error("--data", f"mpii={synthetic_folders['mpii'][0]}")
    assert "unknown joint set 'BODY25'" in error("--data", "synthetic", "--joint-set", "BODY25")
    assert "--data muco: give the dataset's folder, --data muco=ROOT" in error("--data", "muco")
    assert "muco has the splits train, not 'test'" in error(
        "--data", f"muco={synthetic_folders['muco'][0]}", "--split", "test"
    )
    assert "--samples must be at least 2" in error("--data", "synthetic", "--samples", "1")
    assert not (tmp_path / "p.json").exists()
