"""Fuzzed annotation files of every dataset reader: a consistent table, or one DatasetError line."""

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given

from mhp.data.annotations import Annotations
from mhp.data.check import CheckReport, check_dataset
from mhp.data.coco import read_coco
from mhp.data.h36m import read_h36m
from mhp.data.h36m_writer import write_h36m
from mhp.data.mpii import read_mpii
from mhp.data.muco import read_muco
from mhp.data.mupots import read_mupots
from mhp.data.writers import write_coco, write_mpii, write_muco, write_mupots
from mhp.skeleton import COCO, H36M, MPII, MUCO, MUPOTS
from tests.fuzz.harness import FileSwap, fast_folder, json_variants, outcome

SUBJECT = 9  # the writer gives subjects 9 and 11 RootNet detections
SIZE = (256, 256)


@pytest.fixture(scope="module")
def roots(tmp_path_factory) -> Iterator[dict[str, Path]]:
    """Tiny folders of every format, written once; each test swaps one of their files per example."""
    base = fast_folder(tmp_path_factory, "fuzz-datasets")
    one_frame = {"actions": (2,), "subactions": (1,), "cameras": (1, 2), "frames": 2, "frame_step": 5}
    write_h36m(base / "h36m", subjects=(SUBJECT,), image_size=SIZE, **one_frame)
    write_mpii(base / "mpii", num_images=3, image_size=SIZE)
    write_coco(base / "coco", num_images=3, test_images=2, image_size=SIZE)
    write_muco(base / "muco", num_images=3, image_size=SIZE)
    write_mupots(base / "mupots", sequences=2, frames=2, image_size=SIZE)
    yield {name: base / name for name in ("h36m", "mpii", "coco", "muco", "mupots")}
    shutil.rmtree(base)


def variants(path: Path):
    return json_variants(json.loads(Path(path).read_text()))


def check_table(annotations: Annotations, joint_set) -> None:
    """The invariants every consumer relies on: one row per sample in every column, usable numbers."""
    n, j = len(annotations), joint_set.num_joints
    assert annotations.joint_set is joint_set
    shapes = {
        "image_paths": (n,),
        "image_ids": (n,),
        "image_sizes": (n, 2),
        "bbox_raw": (n, 4),
        "bbox": (n, 4),
        "joints_img": (n, j, 3),
        "joints_cam": (n, j, 3),
        "joints_vis": (n, j),
        "root_cam": (n, 3),
        "focal": (n, 2),
        "principal": (n, 2),
        "group_codes": (n,),
        "subjects": (n,),
        "scores": (n,),
    }
    for column, shape in shapes.items():
        assert getattr(annotations, column).shape == shape, column
    for column in ("bbox_raw", "bbox", "joints_img", "joints_cam", "root_cam", "focal", "principal", "scores"):
        assert np.isfinite(getattr(annotations, column)).all(), column
    assert (annotations.bbox[:, 2:] > 0).all()
    assert (annotations.image_sizes >= 1).all()
    assert ((annotations.group_codes >= 0) & (annotations.group_codes < len(annotations.group_names))).all()
    for i in sorted({0, n - 1}) if n else []:
        record = annotations.record(i)
        assert record.joints_img.shape == (j, 3)
        assert "\x00" not in record.image_path
    if annotations.has_gt:
        assert (annotations.joints_vis.sum(axis=1) > 0).all()


def fuzz_reader(name: str, path: Path, read, joint_set) -> None:
    """``read`` on 2,000 (or more) variants of the file ``path``, each passing ``check_table`` or a clear error."""
    with FileSwap(path) as swap:

        @given(variants(path))
        def run(data: bytes) -> None:
            swap.put(data)
            outcome(name, read, lambda annotations: check_table(annotations, joint_set))

        run()


def h36m_file(root: Path, kind: str) -> Path:
    return root / "annotations" / f"Human36M_subject{SUBJECT}_{kind}.json"


def read_h36m_train(root: Path) -> Annotations:
    return read_h36m(root, "train", subjects=(SUBJECT,), stride=1)


@pytest.mark.parametrize("kind", ["data", "camera", "joint_3d"])
def test_h36m_subject_files(roots, kind):
    fuzz_reader(f"h36m {kind}", h36m_file(roots["h36m"], kind), lambda: read_h36m_train(roots["h36m"]), H36M)


def test_h36m_rootnet_boxes(roots):
    path = roots["h36m"] / "bbox_root" / "bbox_root_human36m_output.json"
    read = lambda: read_h36m(roots["h36m"], "test", bbox_root=path, subjects=(SUBJECT,), stride=1)  # noqa: E731
    fuzz_reader("h36m bbox_root", path, read, H36M)


def test_mpii(roots):
    fuzz_reader("mpii", roots["mpii"] / "annotations" / "train.json", lambda: read_mpii(roots["mpii"]), MPII)


@pytest.mark.parametrize(
    ("split", "file"),
    [("train", "annotations/person_keypoints_train2017.json"), ("test", "bbox_root/bbox_root_coco_output.json")],
)
def test_coco(roots, split, file):
    path = roots["coco"] / file
    fuzz_reader(f"coco {split} ({path.name})", path, lambda: read_coco(roots["coco"], split), COCO)


def test_muco(roots):
    fuzz_reader("muco", roots["muco"] / "data" / "MuCo-3DHP.json", lambda: read_muco(roots["muco"]), MUCO)


@pytest.mark.parametrize("file", ["data/MuPoTS-3D.json", "bbox_root/bbox_root_mupots_output.json"])
def test_mupots(roots, file):
    path = roots["mupots"] / file
    boxes = path if "bbox_root" in file else None
    fuzz_reader(f"mupots ({path.name})", path, lambda: read_mupots(roots["mupots"], bbox_root=boxes), MUPOTS)


def check_report(report: CheckReport) -> None:
    assert isinstance(report, CheckReport)
    for problem in report.problems:
        assert problem.strip()
        assert "\n" not in problem, problem
    assert report.lines()[-1] in ("no problems found", f"{len(report.problems)} problem(s)")


def test_check_h36m(roots):
    """``mhp-data check`` never raises: every problem of a fuzzed file becomes one report line."""
    path = h36m_file(roots["h36m"], "data")
    with FileSwap(path) as swap:

        @given(variants(path))
        def run(data: bytes) -> None:
            swap.put(data)
            check = lambda: check_dataset("h36m", roots["h36m"], sample_images=0)  # noqa: E731
            outcome("mhp-data check h36m", check, check_report, errors=())

        run()
