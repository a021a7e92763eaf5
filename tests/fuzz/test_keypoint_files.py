"""Fuzzed keypoint files (mhp-infer --keypoints): a valid result for the lifter's joint set, or one clear error."""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given

from mhp.data.lift_pairs import synthetic_pairs
from mhp.infer.keypoints import (
    MAX_COORDINATE,
    MIN_HEAD_ROOT_FRACTION,
    KeypointPoses,
    head_root_fraction,
    read_keypoints,
)
from mhp.skeleton import COCO, H36M
from tests.fuzz.harness import FileSwap, fast_folder, json_variants, outcome


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return fast_folder(tmp_path_factory, "fuzz-keypoints")


def valid_files() -> list[tuple[str, dict, object]]:
    """(name, content, lifter joint set): a scored H36M file, and COCO-17 keypoints named in the file."""
    h36m = synthetic_pairs(2, 0, H36M).joints_2d.round(1)
    coco = synthetic_pairs(2, 1, COCO).joints_2d[:, :17].round(1)
    return [
        (
            "H36M set",
            {"joint_set": "H36M", "poses": [{"id": f"f{i}", "keypoints": [[*p, 0.8] for p in pose.tolist()]}
                                            for i, pose in enumerate(h36m)]},
            H36M,
        ),
        (
            "COCO-17 names",
            {"joints": [n.lower().replace("l_", "left_").replace("r_", "right_") for n in COCO.joints[:17]],
             "score_threshold": 0.3, "poses": [{"keypoints": pose.tolist()} for pose in coco]},
            COCO,
        ),
    ]  # fmt: skip


VALID = valid_files()


@pytest.mark.parametrize(("name", "valid", "joint_set"), VALID, ids=[v[0] for v in VALID])
def test_read_keypoints(folder, name, valid, joint_set):
    path = folder / "keypoints.json"
    path.write_text(json.dumps(valid))
    head = joint_set.joints.index("Head" if "Head" in joint_set.joints else "Nose")

    def checked(poses: KeypointPoses) -> None:
        count = len(poses.ids)
        assert count >= 1
        assert all(isinstance(i, str) for i in poses.ids)
        assert poses.joint_set is joint_set
        assert poses.keypoints.shape == (count, joint_set.num_joints, 2)
        assert poses.keypoints.dtype == np.float64
        assert (np.abs(poses.keypoints) <= MAX_COORDINATE).all()
        assert poses.scores.shape == (count, joint_set.num_joints)
        assert (poses.scores >= poses.score_threshold).all()  # no NaN either
        assert (head_root_fraction(poses.keypoints, joint_set.root, head) > MIN_HEAD_ROOT_FRACTION).all()

    with FileSwap(path) as swap:

        @given(json_variants(valid))
        def run(data: bytes) -> None:
            swap.put(data)
            outcome(f"mhp-infer --keypoints ({name})", lambda: read_keypoints(path, joint_set), checked)

        run()
