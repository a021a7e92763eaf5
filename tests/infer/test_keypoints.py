"""Keypoint files lifted to 3D: the file path gives the model's numbers, joints are remapped by name (COCO-17 gets
its Pelvis and Thorax as midpoints), every bad input is one line naming the file, pose and joint, and
``mhp-infer --keypoints`` writes the lifted poses."""

import copy
import json
import math
import re

import cv2
import numpy as np
import pytest
import torch

from mhp.cli.infer import main as infer_main
from mhp.config import ExportConfig
from mhp.data.lift_pairs import synthetic_pairs
from mhp.errors import MhpError
from mhp.export.pipeline import export_checkpoint
from mhp.infer import keypoints as keypoints_module
from mhp.infer.keypoints import DEFAULT_SCORE_THRESHOLD, canonical_name, parse_keypoints, read_keypoints
from mhp.infer.predictor import Predictor
from mhp.models import create_model
from mhp.models.checkpoint import save_checkpoint
from mhp.skeleton import COCO, H36M


def fit_lifter(steps: int = 300):
    """A small xyz lifter fitted to synthetic H36M pairs (seconds on one CPU thread)."""
    torch.manual_seed(0)
    pairs = synthetic_pairs(2000, 0, H36M)
    model = create_model("LIFT_MLP", output="xyz", width=64, dropout=0.0)
    uv = model.normalize(torch.tensor(pairs.joints_2d, dtype=torch.float32))[0]
    target = torch.tensor(pairs.joints_3d, dtype=torch.float32) / 1000.0
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(steps):
        batch = torch.randint(0, len(uv), (128,))
        loss = ((model(uv[batch]) / 1000.0 - target[batch]) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval(), pairs.joints_3d.mean(axis=0)


@pytest.fixture(scope="module")
def lifter(tmp_path_factory):
    """(checkpoint path, model, mean training pose) of a fitted H36M lifter."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model, mean_pose = fit_lifter()
    finally:
        torch.set_num_threads(threads)
    path = save_checkpoint(tmp_path_factory.mktemp("lifter") / "lifter.pt", model, config={"task": "lift"})
    return path, model, mean_pose


@pytest.fixture(scope="module")
def coco_lifter(tmp_path_factory):
    """An untrained COCO-set depth lifter: remapping is checked against the model itself."""
    torch.manual_seed(1)
    model = create_model("LIFT_MLP", num_joints=19, joint_set="COCO", width=32).eval()
    return save_checkpoint(tmp_path_factory.mktemp("coco") / "coco.pt", model), model


@pytest.fixture(scope="module")
def image_model(tmp_path_factory):
    model = create_model("LPSKI", width_mult=0.25, embedding_size=32, input_size=64)
    return save_checkpoint(tmp_path_factory.mktemp("image") / "lpski.pt", model)


def document(joints_2d: np.ndarray, **top) -> dict:
    """A keypoint file's content: H36M poses with scores, ids f0, f1, ..."""
    poses = [
        {"id": f"f{i}", "keypoints": [[float(x), float(y), 0.9] for x, y in pose]} for i, pose in enumerate(joints_2d)
    ]
    return {"joint_set": "H36M", **top, "poses": poses}


def write(path, content) -> str:
    path.write_text(json.dumps(content, allow_nan=True))
    return str(path)


@pytest.fixture(scope="module")
def poses():
    return synthetic_pairs(24, 5, H36M)


def test_lifting_a_file_gives_the_models_numbers_and_beats_the_mean_pose(lifter, poses, tmp_path):
    path, model, mean_pose = lifter
    read = read_keypoints(write(tmp_path / "k.json", document(poses.joints_2d)), H36M)
    assert read.ids == tuple(f"f{i}" for i in range(24))
    np.testing.assert_array_equal(read.keypoints, poses.joints_2d)
    np.testing.assert_array_equal(read.scores, np.full((24, 18), 0.9))
    lifted = Predictor(path).lift(read.keypoints)
    with torch.no_grad():
        direct = model.lift(torch.tensor(poses.joints_2d, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(lifted, direct, atol=1e-3)  # normalised in float64 on the host, like an app
    assert lifted.shape == (24, 18, 3)
    np.testing.assert_array_equal(lifted[:, 0], 0.0)  # root-relative
    error = np.linalg.norm(lifted - poses.joints_3d, axis=-1).mean()
    baseline = np.linalg.norm(mean_pose - poses.joints_3d, axis=-1).mean()
    assert error < 0.85 * baseline, (error, baseline)
    # the lifter is scale- and translation-invariant: pixels or normalised coordinates give the same pose
    moved = Predictor(path).lift(poses.joints_2d / 1000.0 + 3.0)
    np.testing.assert_allclose(moved, lifted, atol=0.5)


def test_joints_are_remapped_by_name_in_any_order_and_spelling(poses):
    order = np.random.default_rng(0).permutation(18)
    spelled = [H36M.joints[j].lower().replace("l_", "left_").replace("r_", "right_") for j in order]
    content = {
        "joints": [*spelled, "left_pinky"],  # a joint the lifter does not use is ignored
        "score_threshold": 0.5,
        "poses": [{"keypoints": [*pose[order].tolist(), None]} for pose in poses.joints_2d[:3]],
    }
    read = parse_keypoints(content, H36M)
    np.testing.assert_array_equal(read.keypoints, poses.joints_2d[:3])
    np.testing.assert_array_equal(read.scores, 1.0)  # no scores given
    assert read.ids == ("0", "1", "2")
    assert read.score_threshold == 0.5
    spellings = {"RShoulder": "R_Shoulder", "LEar": "L_Ear", " left_ankle": "L_Ankle", "NECK": "Neck"}
    assert {name: canonical_name(name) for name in [*spellings, "MidHip", "Lung"]} == {
        **spellings,
        "MidHip": "MidHip",  # unknown names stay as written (and are ignored unless the lifter needs them)
        "Lung": "Lung",
    }


def test_coco_17_keypoints_get_pelvis_and_thorax_as_midpoints(coco_lifter, tmp_path):
    path, model = coco_lifter
    full = synthetic_pairs(6, 3, COCO).joints_2d
    full[:, 17], full[:, 18] = full[:, 5:7].mean(axis=1), full[:, 11:13].mean(axis=1)  # 2D midpoints
    scores = np.random.default_rng(2).uniform(0.2, 1.0, (6, 17))
    short = [
        {"id": i, "keypoints": [[*xy, s] for xy, s in zip(pose[:17].tolist(), score.tolist(), strict=True)]}
        for i, (pose, score) in enumerate(zip(full, scores, strict=True))
    ]
    read = read_keypoints(write(tmp_path / "coco.json", {"joint_set": "coco", "poses": short}), model.joint_set)
    np.testing.assert_allclose(read.keypoints, full, atol=1e-9)
    np.testing.assert_array_equal(read.scores[:, 17], np.minimum(scores[:, 5], scores[:, 6]))  # shoulders
    np.testing.assert_array_equal(read.scores[:, 18], np.minimum(scores[:, 11], scores[:, 12]))  # hips
    lifted = Predictor(path).lift(read.keypoints)
    with torch.no_grad():
        direct = model.lift(torch.tensor(full, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(lifted, direct, atol=1e-3)


def damaged(poses, change) -> dict:
    content = copy.deepcopy(document(poses.joints_2d[:3]))
    change(content)
    return content


def set_point(pose: int, joint: int, value):
    def change(content):
        content["poses"][pose]["keypoints"][joint] = value

    return change


def head_on_root(content):
    content["poses"][2]["keypoints"][10] = list(content["poses"][2]["keypoints"][0])


BAD = {
    "null joint": (set_point(1, 4, None), r"k\.json: pose 1 \(id 'f1'\), joint 4 \(L_Hip\) is null, and the H36M"),
    "low score": (set_point(0, 9, [1.0, 2.0, 0.01]), r"joint 9 \(Nose\) has score 0\.01, below the score_thr"),
    "NaN": (set_point(0, 3, [math.nan, 2.0]), r"pose 0 \(id 'f0'\), joint 3 \(R_Ankle\) holds nan; give finite"),
    "Infinity": (set_point(2, 5, [1.0, math.inf, 1.0]), r"pose 2 \(id 'f2'\), joint 5 \(L_Knee\) holds inf"),
    "string": (set_point(0, 1, ["12", 3]), r"joint 1 \(R_Hip\) holds '12', not a number"),
    "bool": (set_point(0, 1, [1, True]), r"joint 1 \(R_Hip\) holds True, not a number"),
    "score string": (set_point(0, 1, [1, 2, "high"]), r"joint 1 \(R_Hip\) holds 'high', not a number"),
    "too far": (set_point(0, 2, [1e7, 2]), r"joint 2 \(R_Knee\) is \[10000000\.0, 2\]: coordinates must lie within"),
    "not a pair": (set_point(0, 2, [1]), r"joint 2 \(R_Knee\) is \[1\]; expected \[x, y\], \[x, y, score\] or null"),
    "unknown set": (lambda c: c.update(joint_set="BODY25"), r"k\.json: unknown joint set 'BODY25'; choose one of H36M"),
    "count": (
        lambda c: c["poses"][1]["keypoints"].pop(),
        r"pose 1 \(id 'f1'\) has 17 keypoints; the H36M set takes 18$",
    ),
    "flat list": (
        lambda c: c["poses"][0].update(keypoints=[v for p in c["poses"][0]["keypoints"] for v in p]),
        r"has 54 keypoints; the H36M set takes 18; group a flat \[x1, y1, s1, x2, \.\.\.\] list into",
    ),
    "set lacks joints": (
        lambda c: c.update(joint_set="MPII"),
        r"k\.json: the MPII set lacks Torso, Nose, which the H36M lifter needs; give keypoints of the H36M set \(Pel",
    ),
    "names lack joints": (
        lambda c: (c.pop("joint_set"), c.update(joints=[n if n != "Head" else "Top" for n in H36M.joints])),
        r"the file's 'joints' list \(18 names\) lacks Head, which the H36M lifter needs",
    ),
    "head on root": (head_on_root, r"pose 2 \(id 'f2'\): its Head lies on its Pelvis \(0 of the pose's size apart\)"),
    "empty": (lambda c: c.update(poses=[]), r"k\.json: the pose list is empty"),
    "both": (lambda c: c.update(joints=list(H36M.joints)), r"has both 'joint_set' and 'joints'; give one"),
    "neither": (lambda c: c.pop("joint_set"), r"has neither 'joint_set' nor 'joints'"),
    "unknown key": (lambda c: c.update(scale=2), r"unknown key 'scale'; a keypoint file has joint_set, joints"),
    "pose key": (lambda c: c["poses"][0].update(box=[1]), r"pose 0: unknown key 'box'; a pose has id, keypoints"),
    "bool id": (lambda c: c["poses"][0].update(id=True), r"pose 0: 'id' must be a string or an integer, got True"),
    "threshold": (lambda c: c.update(score_threshold=-1), r"'score_threshold' must be a number of at least 0, got -1"),
    "control character": (
        lambda c: (c.pop("joint_set"), c.update(joints=[*H36M.joints[:-1], "Tho\nrax"])),
        r"'joints' must list the joint names in keypoint order",
    ),
    "repeated": (
        lambda c: (c.pop("joint_set"), c.update(joints=["Pelvis", *H36M.joints[1:-1], "pelvis"])),
        r"'joints' names 'Pelvis' twice",
    ),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_keypoint_files_give_one_line_errors(poses, tmp_path, case):
    change, message = BAD[case]
    path = write(tmp_path / "k.json", damaged(poses, change))
    with pytest.raises(MhpError, match=message) as caught:
        read_keypoints(path, H36M)
    assert "\n" not in str(caught.value)


def test_unreadable_files_give_one_line_errors(poses, tmp_path):
    path = tmp_path / "k.json"
    path.write_text(json.dumps(document(poses.joints_2d[:2]))[:300])
    with pytest.raises(MhpError, match=r"k\.json is not valid JSON \(.*\); expected \{\"joint_set\": \"COCO\""):
        read_keypoints(path, H36M)
    with pytest.raises(MhpError, match=r"keypoint file .*nothing\.json not found"):
        read_keypoints(tmp_path / "nothing.json", H36M)
    with open(path, "wb") as f:  # sparse: nothing is written or read
        f.truncate(keypoints_module.MAX_BYTES + 1)
    with pytest.raises(MhpError, match=r"k\.json is 64 MiB, over the 64 MiB limit of keypoint files; split it"):
        read_keypoints(path, H36M)
    with pytest.raises(MhpError, match=r"k\.json: expected \{"):
        read_keypoints(write(path, [[1, 2]] * 18), H36M)


def test_predictor_keeps_lifters_and_image_models_apart(lifter, image_model, poses):
    path, _, _ = lifter
    predictor = Predictor(path)
    assert predictor.lifter is not None
    assert predictor.name == "torch LIFT_MLP fp32"
    assert predictor.joints["names"] == list(H36M.joints)
    image = np.zeros((64, 64, 3), np.uint8)
    with pytest.raises(MhpError, match=r"is a 2D->3D lifter: it takes 2D keypoints, not images; call lift"):
        predictor.predict(image)
    with pytest.raises(MhpError, match="not images"):
        predictor.crop(image, np.array([0, 0, 32, 32]))
    with pytest.raises(MhpError, match=r"lift\(\) takes \(N, 18, 2\) joints in the H36M order \(Pelvis, R_Hip"):
        predictor.lift(poses.joints_2d[0])
    bad = poses.joints_2d[:3].copy()
    bad[1, 4, 0] = np.nan
    with pytest.raises(MhpError, match="some are NaN, infinite or more"):
        predictor.lift(bad)
    bad[1, 4, 0], bad[2, 10] = 0.0, bad[2, 0]
    with pytest.raises(MhpError, match="pose 2 has its Head on its Pelvis"):
        predictor.lift(bad)
    assert predictor.lift(np.zeros((0, 18, 2))).shape == (0, 18, 3)
    with pytest.raises(MhpError, match="runs on torch, not onnxruntime"):
        Predictor(path, runtime="onnxruntime")
    image_predictor = Predictor(image_model)
    assert image_predictor.lifter is None
    with pytest.raises(MhpError, match=r"is an image pose model: call predict\(image\); lift\(\) needs a lifter"):
        image_predictor.lift(poses.joints_2d)


@pytest.mark.slow
def test_exported_lifters_lift_like_their_checkpoint(lifter, poses, tmp_path):
    path, _, _ = lifter
    export_checkpoint(ExportConfig(checkpoint=str(path), target="onnx", out=str(tmp_path)), log=lambda _: None)
    artifact = Predictor(tmp_path / "lift_mlp_fp32.onnx")
    assert artifact.lifter is not None
    assert artifact.name.startswith("onnxruntime")
    np.testing.assert_allclose(artifact.lift(poses.joints_2d), Predictor(path).lift(poses.joints_2d), atol=1e-2)
    with pytest.raises(MhpError, match="not images"):
        artifact.predict(np.zeros((64, 64, 3), np.uint8))


def test_mhp_infer_lifts_a_keypoint_file(lifter, poses, tmp_path, capsys):
    path, _, _ = lifter
    keypoints = write(tmp_path / "walk.json", document(poses.joints_2d[:5]))
    out = tmp_path / "out"
    assert infer_main(["--keypoints", keypoints, "--model", str(path), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out / 'walk_lifted.json'}"
    result = json.loads((out / "walk_lifted.json").read_text())
    assert {k: result[k] for k in ("format_name", "version", "kind", "input", "runtime")} == {
        "format_name": "mhp-infer",
        "version": 1,
        "kind": "keypoints",
        "input": keypoints,
        "runtime": "torch LIFT_MLP fp32",
    }
    assert result["joints"]["set"] == "H36M"
    assert result["joints"]["names"] == list(H36M.joints)
    assert result["score_threshold"] == DEFAULT_SCORE_THRESHOLD
    assert [p["id"] for p in result["poses"]] == ["f0", "f1", "f2", "f3", "f4"]
    np.testing.assert_array_equal([p["keypoints_2d"] for p in result["poses"]], poses.joints_2d[:5])
    expected = Predictor(path).lift(poses.joints_2d[:5])
    np.testing.assert_allclose([p["joints_rel_mm"] for p in result["poses"]], expected, atol=0.051)
    assert cv2.imread(str(out / "walk_3d.png")) is not None
    assert sorted(p.name for p in out.iterdir()) == ["walk_3d.png", "walk_lifted.json"]


def test_mhp_infer_keypoint_errors_are_one_line(lifter, image_model, poses, tmp_path, capsys):
    path, _, _ = lifter
    bad = write(tmp_path / "bad.json", damaged(poses, set_point(0, 6, None)))
    good = write(tmp_path / "good.json", document(poses.joints_2d[:2]))
    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), np.zeros((64, 64, 3), np.uint8))
    out = str(tmp_path / "out")
    cases = {
        "bad file": (  # --strict: the first bad pose stops the run (without it: tests/cli/test_misuse_trials.py)
            ["--keypoints", bad, "--model", str(path), "--strict"],
            r"bad\.json: pose 0 \(id 'f0'\), joint 6 \(L_Ankle\)",
        ),
        "image model": (["--keypoints", good, "--model", str(image_model)], r"lpski\.pt is an image pose model"),
        "both inputs": ([str(photo), "--keypoints", good, "--model", str(path)], r"pass either an INPUT \(.*photo"),
        "no model": (["--keypoints", good], r"--keypoints needs --model"),
        "boxes": (["--keypoints", good, "--model", str(path), "--boxes", good], r"--boxes and --detector find peop"),
        "image to lifter": ([str(photo), "--model", str(path)], r"lifter\.pt is a 2D->3D lifter: .* --keypoints"),
    }
    for case, (argv, message) in cases.items():
        assert infer_main([*argv, "--out", out]) == 1, case
        err = capsys.readouterr().err
        assert err.count("\n") == 1, (case, err)
        assert err.startswith("error: "), (case, err)
        assert re.search(message, err), (case, err)
    assert not (tmp_path / "out").exists()
