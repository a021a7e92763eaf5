"""Every reader loads the folders the synthetic writers produce, and the numbers round-trip exactly."""

import json
import shutil

import numpy as np
import pytest

from mhp.data import read_dataset
from mhp.data.io import DatasetError
from mhp.geometry import process_bbox
from mhp.skeleton import COCO, H36M, MPII, MUCO, MUPOTS
from tests.conftest import H36M_OPTIONS

PX, MM = 1e-3, 1e-3


def by_key(truths, key):
    out = {}
    for t in truths:
        out.setdefault(key(t), []).append(t)
    return out


def assert_matches(annotations, truths, *, with_cam, match_on_box=False, written=None):
    """Each sample equals the truth written for its image (matched by box when an image holds several)."""
    truth_of = by_key(truths, lambda t: t.file_name)
    for i in range(len(annotations)):
        r = annotations.record(i)
        name = annotations.image_paths[i].decode()
        candidates = truth_of[name if name in truth_of else name.removeprefix("images/")]
        t = min(candidates, key=lambda t: np.abs(t.bbox - r.bbox_raw).sum()) if match_on_box else candidates[0]
        assert np.abs(r.bbox_raw - t.bbox).max() < PX
        assert np.allclose(r.bbox, process_bbox(t.bbox, r.width, r.height))
        vis = r.joints_vis > 0
        if written is not None:  # joints the reader derives itself (COCO's Thorax and Pelvis) are checked apart
            vis[written:] = False
        assert np.abs(r.joints_img[vis, :2] - t.joints_img[vis]).max() < PX
        if with_cam:
            assert np.abs(r.joints_cam - t.joints_cam).max() < MM
            assert np.allclose(
                r.joints_img[:, 2], t.joints_cam[:, 2] - t.joints_cam[annotations.joint_set.root, 2], atol=MM
            )


def test_h36m_round_trip_and_thorax(synthetic_folders):
    root, truths = synthetic_folders["h36m"]
    a = read_dataset("h36m", root, "test", protocol=2)
    assert a.joint_set is H36M
    assert a.has_depth
    assert_matches(a, truths, with_cam=True)
    r = a.record(0)
    assert np.allclose(r.joints_cam[17], r.joints_cam[[11, 14]].mean(0), atol=MM)  # Thorax = shoulder midpoint
    assert np.allclose(r.root_cam, r.joints_cam[0])
    assert r.group in ("Directions", "Discussion")
    assert a.image_path(0).is_file()


@pytest.mark.parametrize(
    ("split", "protocol", "subjects"),
    [("train", 1, (1, 5, 6, 7, 8, 9)), ("test", 1, (11,)), ("train", 2, (1, 5, 6, 7, 8)), ("test", 2, (9, 11))],
)
def test_h36m_splits_and_subsampling(synthetic_folders, split, protocol, subjects):
    root, _ = synthetic_folders["h36m"]
    a = read_dataset("h36m", root, split, protocol=protocol)
    # written frames 0, 32, 64: training keeps frame % 5 == 0 -> {0}; testing frame % 64 == 0 -> {0, 64}
    per_sequence = 1 if split == "train" else 2
    sequences = len(H36M_OPTIONS["actions"]) * 2 * len(H36M_OPTIONS["cameras"])
    expected = {str(s): per_sequence * sequences for s in subjects}
    if 11 in subjects:  # S11 act 2 subact 2 cam 1 is skipped as corrupt
        expected["11"] -= per_sequence
        assert a.dropped == {"corrupt sequence S11 act 2 subact 2 cam 1": per_sequence}
    assert a.counts("subject") == expected


def test_h36m_rootnet_boxes_replace_the_ground_truth(synthetic_folders):
    root, _ = synthetic_folders["h36m"]
    gt = read_dataset("h36m", root, "test")
    det = read_dataset("h36m", root, "test", bbox_root=root / "bbox_root" / "bbox_root_human36m_output.json")
    detections = {
        d["image_id"]: d for d in json.loads((root / "bbox_root" / "bbox_root_human36m_output.json").read_text())
    }
    assert len(det) == len(gt)
    for i in range(len(det)):
        d = detections[int(det.image_ids[i])]
        assert np.allclose(det.bbox[i], d["bbox"])
        assert np.allclose(det.root_cam[i], d["root_cam"])
        assert not np.allclose(det.root_cam[i], gt.root_cam[i])
    assert np.allclose(det.joints_cam, gt.joints_cam)  # ground truth kept for evaluation
    with pytest.raises(DatasetError, match="test split only"):
        read_dataset("h36m", root, "train", bbox_root=root / "bbox_root" / "bbox_root_human36m_output.json")


def test_mpii_round_trip(synthetic_folders):
    root, truths = synthetic_folders["mpii"]
    a = read_dataset("mpii", root, "train")
    assert a.joint_set is MPII
    assert not a.has_depth
    assert len(a) == len(truths)
    assert a.dropped == {"no keypoints": 1}
    assert_matches(a, truths, with_cam=False, match_on_box=True)
    assert np.all(a.joints_img[..., 2] == 0)


def test_coco_train_and_test(synthetic_folders):
    root, truths = synthetic_folders["coco"]
    a = read_dataset("coco", root, "train")
    assert a.joint_set is COCO
    assert len(a) == len(truths)
    assert a.dropped == {"crowd or no keypoints": 2}
    assert_matches(a, truths, with_cam=False, match_on_box=True, written=17)
    r = a.record(0)
    for name, parents in (("Thorax", ("L_Shoulder", "R_Shoulder")), ("Pelvis", ("L_Hip", "R_Hip"))):
        if all(r.joints_vis[COCO.index(p)] for p in parents):
            assert np.allclose(
                r.joints_img[COCO.index(name), :2], np.mean([r.joints_img[COCO.index(p), :2] for p in parents], 0)
            )
    assert np.allclose(r.focal, 1500)
    assert np.allclose(r.principal, [r.width / 2, r.height / 2])
    test = read_dataset("coco", root, "test")
    assert not test.has_gt
    assert len(test) > 0
    assert np.all(test.joints_vis == 0)


def test_muco_person_selection(synthetic_folders):
    root, truths = synthetic_folders["muco"]
    a = read_dataset("muco", root, "train")
    selected = [t for t in truths if t.extra["selected"]]
    assert len(a) == len(selected) < len(truths)  # the writer puts some people within 500 mm of another
    assert a.dropped == {"not selected (within 500 mm of another person)": len(truths) - len(selected)}
    assert_matches(a, selected, with_cam=True, match_on_box=True)
    assert a.joint_set is MUCO


def test_mupots_valid_people_and_detections(synthetic_folders):
    root, truths = synthetic_folders["mupots"]
    a = read_dataset("mupots", root, "test")
    valid = [t for t in truths if t.extra["is_valid"]]
    assert len(a) == len(valid)
    assert a.dropped == {"is_valid 0": len(truths) - len(valid)}
    assert_matches(a, valid, with_cam=True, match_on_box=True)
    assert a.joint_set is MUPOTS
    assert set(a.counts()) == {"TS1", "TS2", "TS3"}
    det = read_dataset("mupots", root, "test", bbox_root=root / "bbox_root" / "bbox_root_mupots_output.json")
    assert len(det) == len(truths)
    assert not det.has_gt
    assert det.scores.min() >= 0.6


def test_missing_files_name_the_expected_path(synthetic_folders, tmp_path):
    root, _ = synthetic_folders["mpii"]
    shutil.copytree(root / "annotations", tmp_path / "annotations")
    with pytest.raises(DatasetError, match=r"MPII image .* not found: expected .*images"):
        read_dataset("mpii", tmp_path, "train")
    with pytest.raises(DatasetError, match=r"MuCo-3DHP annotation file not found: expected .*data/MuCo-3DHP\.json"):
        read_dataset("muco", tmp_path, "train")
    with pytest.raises(DatasetError, match="is not a folder"):
        read_dataset("h36m", tmp_path / "nope", "train")


def test_invalid_json_names_file_and_position(synthetic_folders, tmp_path):
    root, _ = synthetic_folders["mupots"]
    shutil.copytree(root, tmp_path / "m")
    path = tmp_path / "m" / "data" / "MuPoTS-3D.json"
    path.write_text('{"images": [\n  {"id": 0,,}\n]}')
    with pytest.raises(DatasetError, match=r"MuPoTS-3D\.json: invalid JSON at line 2 column 12"):
        read_dataset("mupots", tmp_path / "m", "test")


def test_schema_errors_name_the_entry(synthetic_folders, tmp_path):
    root, _ = synthetic_folders["coco"]
    shutil.copytree(root, tmp_path / "c")
    path = tmp_path / "c" / "annotations" / "person_keypoints_train2017.json"
    content = json.loads(path.read_text())
    del content["annotations"][3]["bbox"]
    content["annotations"][5]["keypoints"] = content["annotations"][5]["keypoints"][:10]
    path.write_text(json.dumps(content))
    with pytest.raises(DatasetError, match=r"annotations\[3\] has no 'bbox'"):
        read_dataset("coco", tmp_path / "c", "train")
    del content["annotations"][3]
    path.write_text(json.dumps(content))
    with pytest.raises(DatasetError, match=r"annotations\[4\] keypoints should hold \(17, 3\) numbers, found 10"):
        read_dataset("coco", tmp_path / "c", "train")


def test_nan_and_invisible_samples_are_dropped_with_a_count(synthetic_folders, tmp_path):
    root, _truths = synthetic_folders["muco"]
    shutil.copytree(root, tmp_path / "m")
    path = tmp_path / "m" / "data" / "MuCo-3DHP.json"
    content = json.loads(path.read_text())
    single = [
        a for a in content["annotations"] if sum(b["image_id"] == a["image_id"] for b in content["annotations"]) == 1
    ]
    single[0]["keypoints_img"][3][0] = float("nan")
    path.write_text(json.dumps(content))
    a = read_dataset("muco", tmp_path / "m", "train")
    assert a.dropped["NaN or infinite coordinates"] == 1
    assert np.isfinite(a.joints_img).all()
