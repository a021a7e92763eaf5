"""The validation slice is held out of the training split: whole recordings, deterministic, never a test split."""

import numpy as np
import pytest

from mhp.data import read_dataset
from mhp.data.h36m import ACTIONS
from mhp.data.holdout import HELD_OUT_SUBACTION, h36m_recordings, held_out_actions, split_validation
from mhp.data.io import DatasetError
from mhp.train.data import NO_VALIDATION, read_training_tables, validation_entry


def test_on_the_complete_dataset_each_subject_holds_out_the_documented_recording():
    subjects, actions = (1, 5, 6, 7, 8, 9, 11), range(2, 17)
    recordings = np.array([(s, a, b) for s in subjects for a in actions for b in (1, 2)])
    names = {s: ACTIONS[a - 2] for s, a in held_out_actions(recordings).items()}
    assert names == {
        1: "Discussion",
        5: "Posing",
        6: "Purchases",
        7: "Sitting",
        8: "SittingDown",
        9: "Smoking",
        11: "Waiting",
    }  # the table in docs/training.md


def test_the_slice_is_whole_recordings_and_disjoint_from_training(synthetic_folders):
    root, _ = synthetic_folders["h36m"]
    full = read_dataset("h36m", root, "train", protocol=2)
    fit, val = split_validation(full)
    assert len(fit) + len(val) == len(full)
    assert 0 < len(val) < len(fit)
    seen = {tuple(r) for r in h36m_recordings(fit)}
    held = {tuple(r) for r in h36m_recordings(val)}
    assert not seen & held  # no recording is in both, from any camera
    assert {r[2] for r in held} == {HELD_OUT_SUBACTION}
    assert {r[0] for r in held} == {1, 5, 6, 7, 8}  # one recording per training subject
    cameras = {p.decode().split("/")[0][-5:] for p in val.image_paths}
    assert cameras == {"ca_01", "ca_02"}  # every camera of a held-out recording
    assert set(fit.image_ids) | set(val.image_ids) == set(full.image_ids)
    assert (fit.split, val.split) == ("train-fit", "val")
    _again_fit, again_val = split_validation(read_dataset("h36m", root, "train", protocol=2))
    assert np.array_equal(again_val.image_ids, val.image_ids)  # deterministic


def test_muco_holds_out_every_thirtieth_image(synthetic_folders):
    root, _ = synthetic_folders["muco"]
    fit, val = split_validation(read_dataset("muco", root, "train"))
    assert len(val) > 0
    assert np.all(val.image_ids % 30 == 0)
    assert not np.any(fit.image_ids % 30 == 0)


def test_a_run_trains_on_the_rest_and_validates_on_the_slice(synthetic_folders):
    root, _ = synthetic_folders["h36m"]
    entry = f"h36m={root}"
    tables, val = read_training_tables((entry,), validation_entry(None, (entry,)), 2)
    full = read_dataset("h36m", root, "train", protocol=2)
    assert len(tables[entry]) + len(val) == len(full)
    assert not set(tables[entry].image_ids) & set(val.image_ids)
    tables, val = read_training_tables((entry,), validation_entry(NO_VALIDATION, (entry,)), 2)
    assert val is None
    assert len(tables[entry]) == len(full)
    tables, val = read_training_tables(("synthetic",), validation_entry(entry, ("synthetic",)), 2)
    assert tables == {}
    assert len(val) > 0


@pytest.mark.parametrize(
    ("entry", "says"),
    [("mupots=/data/MuPoTS", "MuPoTS-3D is the test set"), ("mpii=/data/MPII", "validation needs 3D poses")],
)
def test_test_sets_and_2d_sets_are_refused_for_validation(entry, says, tmp_path):
    name = entry.partition("=")[0]
    with pytest.raises(DatasetError, match=says):
        validation_entry(f"{name}={tmp_path}", ("synthetic",))
