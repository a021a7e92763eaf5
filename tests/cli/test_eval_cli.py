"""``mhp-eval`` end to end on the synthetic dataset folders, with random and trained models."""

import json

import numpy as np
import pytest
import torch

import mhp
from mhp.cli.eval import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    base = tmp_path_factory.mktemp("ckpt")
    torch.manual_seed(0)
    kwargs = {"width_mult": 0.25, "embedding_size": 32, "input_size": 64}
    h36m = mhp.save_checkpoint(base / "h36m.pt", mhp.create_model("LPSKI", **kwargs))
    muco = mhp.save_checkpoint(base / "muco.pt", mhp.create_model("LPSKI", num_joints=21, **kwargs))
    custom = mhp.save_checkpoint(base / "custom.pt", mhp.create_model("LPSKI", num_joints=5, **kwargs))
    return {"h36m": h36m, "muco": muco, "custom": custom}


def run(capsys, *argv):
    code = main([*argv, "--workers", "0", "--device", "cpu"])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize(("protocol", "subjects"), [(1, [11]), (2, [9, 11])])
def test_h36m_protocols(synthetic_folders, checkpoints, capsys, tmp_path, protocol, subjects):
    root = synthetic_folders["h36m"][0]
    out = tmp_path / "report.json"
    code, text, _ = run(
        capsys,
        "--checkpoint",
        str(checkpoints["h36m"]),
        "--data",
        f"h36m={root}",
        "--protocol",
        str(protocol),
        "--json",
        str(out),
    )
    assert code == 0
    report = json.loads(out.read_text())
    assert report["subjects"] == subjects
    assert report["protocol"] == protocol
    assert report["primary"] == ("rigid_mpjpe" if protocol == 1 else "mpjpe")
    assert set(report["per_group"]) == {"Directions", "Discussion"}
    limbs = {"limb_within_2sigma", "limb_error_mm", "gt_limb_within_2sigma", "gt_limb_error_mm", "bone_length_error_mm"}
    assert set(report["metrics"]) == {"mpjpe", "pa_mpjpe", "rigid_mpjpe", *limbs}
    assert report["limb_prior"].startswith("measured on the ")
    assert report["metrics"]["pa_mpjpe"] <= report["metrics"]["rigid_mpjpe"] <= report["metrics"]["mpjpe"]
    assert "Directions" in text
    assert "VideoPose3D protocol #1" in text
    assert "bone-length error |L_pred - L_gt| (ContextPose)" in text


def test_flip_test_modes_and_rootnet_boxes(synthetic_folders, checkpoints, capsys, tmp_path):
    root = synthetic_folders["h36m"][0]
    results = {}
    for extra in (
        ["--no-flip-test"],
        ["--flip-test"],
        ["--flip-test", "--flip-mode", "corrected"],
        ["--bbox-root", str(root / "bbox_root" / "bbox_root_human36m_output.json"), "--no-flip-test"],
    ):
        out = tmp_path / "r.json"
        code, _, _ = run(
            capsys,
            "--checkpoint",
            str(checkpoints["h36m"]),
            "--data",
            f"h36m={root}",
            "--json",
            str(out),
            *extra,
        )
        assert code == 0
        results[" ".join(extra[:3])] = json.loads(out.read_text())
    flips = [r["flip_test"] for r in results.values()]
    assert flips == ["off", "original", "corrected", "off"]
    values = [r["metrics"]["mpjpe"] for r in results.values()]
    assert len(set(values)) == 4  # each option changes the predictions or the roots
    assert list(results.values())[-1]["boxes_and_roots"].startswith("RootNet")


def test_the_flip_test_follows_how_the_model_was_trained(synthetic_folders, checkpoints, capsys, tmp_path):
    root = synthetic_folders["h36m"][0]
    argv = ["--data", f"h36m={root}", "--json", str(tmp_path / "r.json")]
    assert run(capsys, "--checkpoint", str(checkpoints["h36m"]), *argv)[0] == 0
    assert json.loads((tmp_path / "r.json").read_text())["flip_test"] == "original"  # the original test config
    model = mhp.load_checkpoint(checkpoints["h36m"])
    synthetic = mhp.save_checkpoint(tmp_path / "synthetic.pt", model, config={"data_3d": [], "flip_prob": 0.5})
    assert run(capsys, "--checkpoint", str(synthetic), *argv)[0] == 0
    note = json.loads((tmp_path / "r.json").read_text())["flip_test"]
    assert note == "off (it was trained on synthetic humans only, whose left/right colour coding forbids flipping)"
    code, _, err = run(capsys, "--checkpoint", str(synthetic), *argv, "--flip-test")
    assert code == 1
    assert "never saw a mirrored person (it was trained on synthetic humans only" in err
    unflipped = mhp.save_checkpoint(tmp_path / "noflip.pt", model, config={"data_3d": ["h36m=x"], "flip_prob": 0.0})
    assert run(capsys, "--checkpoint", str(unflipped), *argv)[0] == 0
    assert json.loads((tmp_path / "r.json").read_text())["flip_test"] == "off (it was trained with --flip-prob 0)"


def test_mupots_all_and_matched(synthetic_folders, checkpoints, capsys, tmp_path):
    root = synthetic_folders["mupots"][0]
    reports = {}
    for mode, extra in (
        ("gt", []),
        ("rootnet", ["--bbox-root", str(root / "bbox_root" / "bbox_root_mupots_output.json")]),
    ):
        out = tmp_path / f"{mode}.json"
        code, text, _ = run(
            capsys,
            "--checkpoint",
            str(checkpoints["muco"]),
            "--data",
            f"mupots={root}",
            "--json",
            str(out),
            *extra,
        )
        assert code == 0
        assert "3DPCK all" in text
        reports[mode] = json.loads(out.read_text())
    gt = reports["gt"]
    assert set(gt["per_group"]) == {"TS1", "TS2", "TS3"}
    assert gt["matched_people"] == gt["people"]  # ground-truth boxes: every prediction is its person's
    assert gt["metrics"]["pck3d_all"] == gt["metrics"]["pck3d_matched"]
    assert 0 <= gt["metrics"]["auc_all"] <= gt["metrics"]["pck3d_all"] <= 100
    detected = reports["rootnet"]
    assert detected["people"] == gt["people"]
    assert detected["matched_people"] <= detected["people"]
    # people no detection was matched to count as all-wrong in "all ground truths"
    expected_ceiling = 100 * detected["matched_people"] / detected["people"]
    assert detected["metrics"]["pck3d_all"] <= expected_ceiling + 1e-9


def test_synthetic_reports_the_mean_pose_baseline(checkpoints, capsys, tmp_path):
    out = tmp_path / "s.json"
    code, text, _ = run(
        capsys,
        "--checkpoint",
        str(checkpoints["h36m"]),
        "--data",
        "synthetic",
        "--synthetic-samples",
        "12",
        "--synthetic-image-size",
        "128",
        "--json",
        str(out),
    )
    assert code == 0
    m = json.loads(out.read_text())["metrics"]
    assert m["baseline_mpjpe"] > 50
    assert m["ratio_to_baseline"] == pytest.approx(m["mpjpe"] / m["baseline_mpjpe"])
    assert "mean-pose baseline" in text


def test_synthetic_reports_limb_plausibility_under_either_prior(checkpoints, capsys, tmp_path):
    from mhp.config import EvalConfig
    from mhp.data.synthetic import SyntheticHumans
    from mhp.limbs import limb_prior, plausibility, write_limb_prior
    from mhp.skeleton import H36M

    scenes = SyntheticHumans(12, joint_set=H36M, seed=EvalConfig.synthetic_seed, image_size=(128, 128))
    gt = np.stack([scenes.record(i).joints_cam for i in range(12)])
    argv = ["--checkpoint", str(checkpoints["h36m"]), "--data", "synthetic", "--synthetic-samples", "12"]
    argv += ["--synthetic-image-size", "128"]
    measured = plausibility(gt, limb_prior(gt, H36M))
    prior = limb_prior(gt[:6] * 1.1, H36M, source="larger people")
    given = plausibility(gt, prior)
    path = write_limb_prior(tmp_path / "prior.json", prior)
    for extra, expected, says in (
        ([], measured, "limb prior measured on the 12 ground-truth test poses"),
        (["--limb-prior", str(path)], given, f"limb prior from {path} (larger people)"),
    ):
        code, text, _ = run(capsys, *argv, *extra, "--json", str(tmp_path / "s.json"))
        assert code == 0
        report = json.loads((tmp_path / "s.json").read_text())
        m = report["metrics"]
        assert m["gt_limb_within_2sigma"] == pytest.approx(expected["within_2sigma"])
        assert m["gt_limb_error_mm"] == pytest.approx(expected["bone_error_mm"], rel=1e-5)
        assert 0 <= m["limb_within_2sigma"] <= 1
        assert m["limb_error_mm"] > 0
        assert says in text
        assert says.removeprefix("limb prior ") == report["limb_prior"]
        line = f"limb plausibility: {100 * m['limb_within_2sigma']:.1f}% of bones within 2σ"
        assert line in text
    assert measured["within_2sigma"] > given["within_2sigma"]  # the prior of 10 % larger people fits them less
    muco = tmp_path / "muco.json"
    write_limb_prior(muco, limb_prior(np.random.default_rng(0).normal(size=(4, 21, 3)), mhp.skeleton.MUCO))
    code, _, err = run(capsys, *argv, "--limb-prior", str(muco))
    assert code == 1
    assert "limb prior is for the MUCO set but these poses are scored as H36M" in err


def test_errors(checkpoints, capsys, tmp_path):
    code, _, err = run(capsys, "--checkpoint", str(checkpoints["h36m"]), "--data", "h36m")
    assert code == 1
    assert "--data h36m: give the dataset's folder, --data h36m=ROOT" in err
    code, _, err = run(capsys, "--checkpoint", str(checkpoints["custom"]), "--data", "synthetic")
    assert code == 1
    assert "5 joints, which no evaluation protocol defines" in err
    code, _, err = run(capsys, "--checkpoint", str(tmp_path / "none.pt"), "--data", "synthetic")
    assert code == 1
    assert "not found" in err
    code, _, err = run(capsys, "--checkpoint", str(checkpoints["h36m"]), "--data", "coco=x")
    assert code == 1
    assert "--data coco=x: not a dataset here; give h36m=ROOT or mupots=ROOT or synthetic" in err
