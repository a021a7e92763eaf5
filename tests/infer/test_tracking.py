"""Several people through a video: stable ids by overlap, new tracks, ended tracks, and when the detector runs."""

import numpy as np
import pytest

from mhp.infer.draw import track_colour
from mhp.infer.tracking import Tracks, overlap

SIZE = (640, 480)
CONFIDENT, UNSURE = np.full(18, 0.5), np.full(18, 0.01)


class Scripted:
    """A detector answering from a list of box lists, one per call, and counting its calls."""

    def __init__(self, answers):
        self.answers, self.calls = list(answers), 0

    def __call__(self, frame):
        self.calls += 1
        return self.answers.pop(0)


def joints_in(box):
    """Joints spread over a box, so that the box from joints lands back near it."""
    x, y, w, h = box
    return np.stack([np.linspace(x + 0.1 * w, x + 0.9 * w, 18), np.linspace(y + 0.1 * h, y + 0.9 * h, 18)], axis=1)


def test_overlap():
    assert overlap(np.array([0, 0, 10, 10.0]), np.array([5, 0, 10, 10.0])) == pytest.approx(50 / 150)
    assert overlap(np.array([0, 0, 10, 10.0]), np.array([20, 0, 10, 10.0])) == 0.0


def test_ids_stay_with_people_across_detections_and_new_people_get_new_ids():
    left, right = [50, 100, 120, 300], [400, 90, 130, 320]
    moved = [[60, 100, 120, 300], [395, 95, 130, 320]]
    detector = Scripted([[left, right], [moved[1], moved[0]], [moved[0], moved[1], [250, 50, 100, 200]]])
    tracks = Tracks(detector, SIZE, min_confidence=0.05, detect_every=10)
    frame = np.zeros((480, 640, 3), np.uint8)
    assert [i for i, _ in tracks.boxes(frame, 0)] == [0, 1]
    for i, box in tracks.boxes(frame, 1):  # no detection between: the boxes follow the joints
        assert tracks.follow(i, joints_in(box), CONFIDENT)
    assert detector.calls == 1
    by_id = dict(tracks.boxes(frame, 10))  # the detector lists them the other way round: ids stay put
    np.testing.assert_allclose(by_id[0], moved[0])
    np.testing.assert_allclose(by_id[1], moved[1])
    assert sorted(dict(tracks.boxes(frame, 20))) == [0, 1, 2]  # somebody new
    assert detector.calls == 3


def test_a_lost_track_waits_for_the_detector_and_ends_after_missed_detections():
    person = [50, 100, 120, 300]
    detector = Scripted([[person], [], [], []])
    tracks = Tracks(detector, SIZE, min_confidence=0.05, max_missed=2)
    frame = np.zeros((480, 640, 3), np.uint8)
    ((track_id, box),) = tracks.boxes(frame, 0)
    assert tracks.follow(track_id, joints_in(box), UNSURE)  # unsure, but found by the detector this frame
    assert tracks.boxes(frame, 1) == []  # lost: the detector runs at once and does not find the person
    assert detector.calls == 2
    assert tracks.boxes(frame, 2) == []
    assert len(tracks.tracks) == 1  # missed twice: kept for now
    tracks.boxes(frame, 3)
    assert tracks.tracks == []  # missed a third time: ended
    assert detector.calls == 4


def test_an_unsure_pose_on_a_followed_track_is_not_written():
    person = [50, 100, 120, 300]
    tracks = Tracks(Scripted([[person]]), SIZE, min_confidence=0.05)
    frame = np.zeros((480, 640, 3), np.uint8)
    ((track_id, box),) = tracks.boxes(frame, 0)
    assert tracks.follow(track_id, joints_in(box), CONFIDENT)
    ((track_id, box),) = tracks.boxes(frame, 1)
    assert not tracks.follow(track_id, joints_in(box), UNSURE)  # no detection vouches for it in this frame
    assert not tracks.follow(track_id, joints_in([700, 100, 50, 50]), CONFIDENT)  # joints outside the image


def test_each_track_gets_its_own_overlay_colour():
    colours = [track_colour(i) for i in range(8)]
    assert len(set(colours)) == 8
    distances = [np.abs(np.subtract(a, b)).sum() for i, a in enumerate(colours) for b in colours[i + 1 :]]
    assert min(distances) > 60  # told apart at a glance
    assert track_colour(3) == track_colour(3)
