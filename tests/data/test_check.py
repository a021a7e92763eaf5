"""``mhp-data check`` finds each kind of breakage, with the path and the fix."""

import json
import shutil

import cv2
import numpy as np
import pytest

from mhp.data.check import check_dataset


@pytest.fixture
def copy_of(synthetic_folders, tmp_path):
    def copy(name):
        shutil.copytree(synthetic_folders[name][0], tmp_path / name)
        return tmp_path / name

    return copy


@pytest.mark.parametrize("name", ["h36m", "mpii", "coco", "muco", "mupots"])
def test_clean_folders_pass_with_counts(synthetic_folders, name):
    report = check_dataset(name, synthetic_folders[name][0], sample_images=1000)
    assert report.ok, report.problems
    assert report.images_checked > 0
    assert all(sum(c.values()) > 0 for c in report.counts.values())


def test_h36m_counts_per_protocol_split_and_subject(synthetic_folders):
    report = check_dataset("h36m", synthetic_folders["h36m"][0])
    assert report.counts["all frames"] == {f"S{s}": 24 for s in (1, 5, 6, 7, 8, 9)} | {"S11": 21}
    assert report.counts["train, protocol 2 (every 5th frame)"] == {f"S{s}": 8 for s in (1, 5, 6, 7, 8)}
    assert report.counts["test, protocol 2 (every 64th frame)"] == {"S9": 16, "S11": 14}
    assert report.dropped["all frames"] == {"corrupt sequence S11 act 2 subact 2 cam 1": 3}
    text = "\n".join(report.lines())
    assert "no problems found" in text
    assert "S11: 14" in text


def test_missing_annotation_file_and_subject(copy_of):
    root = copy_of("h36m")
    (root / "annotations" / "Human36M_subject5_camera.json").unlink()
    for kind in ("data", "camera", "joint_3d"):
        (root / "annotations" / f"Human36M_subject7_{kind}.json").unlink()
    problems = check_dataset("h36m", root).problems
    assert len(problems) == 2
    assert "Human36M_subject5_camera.json" in problems[0]
    assert "not found: expected" in problems[0]
    assert "subject 7 missing" in problems[1]


def test_missing_image_folder(copy_of):
    root = copy_of("mupots")
    shutil.rmtree(root / "data" / "MultiPersonTestSet")
    (problem,) = check_dataset("mupots", root).problems
    assert "MuPoTS-3D image folder not found: expected the folder" in problem
    assert str(root / "data" / "MultiPersonTestSet") in problem


def test_invalid_json_is_located(copy_of):
    root = copy_of("muco")
    path = root / "data" / "MuCo-3DHP.json"
    path.write_text(path.read_text()[:-40])
    (problem,) = check_dataset("muco", root).problems
    assert str(path) in problem
    assert "invalid JSON at line 1 column" in problem


def test_schema_problem_names_the_entry(copy_of):
    root = copy_of("coco")
    path = root / "annotations" / "person_keypoints_train2017.json"
    content = json.loads(path.read_text())
    del content["images"][2]["width"]
    path.write_text(json.dumps(content))
    problems = check_dataset("coco", root).problems
    assert any("has no 'width'" in p for p in problems)


def test_image_problems_are_each_listed(copy_of):
    root = copy_of("mpii")
    images = sorted((root / "images").glob("*.jpg"))
    images[0].write_bytes(b"garbage")
    images[1].unlink()
    small = cv2.imread(str(images[2]))[:100, :100]
    cv2.imwrite(str(images[2]), small)
    problems = check_dataset("mpii", root, sample_images=1000).problems
    assert len(problems) == 3
    text = "\n".join(problems)
    assert f"{images[0]}: cannot be decoded" in text
    assert f"{images[1]}: image file missing" in text
    assert f"{images[2]}: is 100x100 but the annotation says 640x480" in text


def test_not_a_folder(tmp_path):
    report = check_dataset("mpii", tmp_path / "missing")
    assert not report.ok
    assert "not a folder" in report.problems[0]
    assert np.all([p.startswith(str(tmp_path)) for p in report.problems])
