"""Boxes: the centred first guess, boxes from joints, validation, the JSON file, and tracking through a video."""

import json

import numpy as np
import pytest

from mhp.errors import MhpError
from mhp.geometry import process_bbox
from mhp.infer.boxes import BoxTracker, box_from_joints, boxes_for, centred_box, check_box, read_boxes


def test_the_centred_box_becomes_the_centred_square_crop():
    box = centred_box(640, 480)
    np.testing.assert_allclose(box, [128, 48, 384, 384])
    crop = process_bbox(box, 640, 480)  # the model's 1.25x expansion (the clip trims one pixel first)
    np.testing.assert_allclose(crop, [80.125, 0.125, 478.75, 478.75])


def test_box_from_joints_is_their_hull_widened_about_its_centre():
    joints = np.array([[100.0, 50.0], [140.0, 250.0], [120.0, 150.0]])
    np.testing.assert_allclose(box_from_joints(joints, margin=1.5), [90.0, 0.0, 60.0, 300.0])


@pytest.mark.parametrize(
    ("box", "message"),
    [
        ([10, 10, 0, 20], "zero area"),
        ([10, 10, 20, -5], "negative size"),
        ([10, 10, float("nan"), 5], "holds NaN or infinity"),
        ([700, 10, 20, 20], "entirely outside the 640x480 image"),
        ([-50, -50, 40, 40], "entirely outside"),
        ([1, 2, 3], "not \\[x, y, w, h\\]"),
    ],
)
def test_bad_boxes_are_refused(box, message):
    with pytest.raises(MhpError, match=message):
        check_box(box, 640, 480)


def test_boxes_file_formats_and_errors(tmp_path):
    everywhere = tmp_path / "all.json"
    everywhere.write_text("[[1, 2, 30, 40]]")
    assert boxes_for(read_boxes(everywhere), "any.jpg") == [[1, 2, 30, 40]]
    named = tmp_path / "named.json"
    named.write_text(json.dumps({"a.jpg": [[1, 2, 3, 4], [5, 6, 7, 8]], "3": []}))
    table = read_boxes(named)
    assert boxes_for(table, "a.jpg") == [[1, 2, 3, 4], [5, 6, 7, 8]]
    assert boxes_for(table, "3") == []
    assert boxes_for(table, "b.jpg") is None  # not listed: the caller's default (centred or tracked)
    assert boxes_for(None, "a.jpg") is None
    for content, message in (("{not json", "is not valid JSON"), ('{"a.jpg": [[1, 2, 3]]}', "not a list of")):
        bad = tmp_path / "bad.json"
        bad.write_text(content)
        with pytest.raises(MhpError, match=message):
            read_boxes(bad)


def test_tracker_follows_a_walking_person_and_resets_when_lost():
    width, height = 640, 480
    tracker = BoxTracker(width, height, min_confidence=0.2)
    np.testing.assert_allclose(tracker.box, centred_box(width, height))
    skeleton = np.array([[0.0, -80.0], [-30.0, 0.0], [30.0, 0.0], [-20.0, 90.0], [20.0, 90.0]])
    confident = np.full(5, 0.6)
    for step in range(10):  # a person walking right, 12 px per frame
        centre = np.array([200.0 + 12 * step, 240.0])
        assert tracker.update(skeleton + centre, confident) is False
        x, y, w, h = tracker.box
        np.testing.assert_allclose([x + w / 2, y + h / 2], centre + np.array([0, 5]))
        np.testing.assert_allclose([w, h], [60 * 1.2, 170 * 1.2])
    assert tracker.update(skeleton + np.array([300, 240]), np.full(5, 0.05)) is True  # the pose is not trusted any more
    np.testing.assert_allclose(tracker.box, centred_box(width, height))
    assert tracker.update(skeleton + np.array([2000, 240]), confident) is True  # joints left the frame
    assert tracker.resets == 2
