"""Several people through a video, each with a stable id.

The detector runs on the first frame, every ``detect_every`` frames, and on the next frame whenever a track is lost
(its mean joint confidence fell below ``min_confidence``, or its joints left the image). Its boxes are matched to
the tracks by overlap with each track's last detection (greedy, best IoU first, at least ``min_iou``); an unmatched
box starts a new track, a track unmatched by ``max_missed`` detections in a row ends. Between detections a track's
box follows its person's joints (their hull, widened, as for one person). A person is written when the detector
found them in this frame or their pose is confident; a lost track is not cut again until a detection finds it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mhp.infer.blazepose import iou, xyxy
from mhp.infer.boxes import box_from_joints

DETECT_EVERY = 10
MAX_MISSED = 2
MIN_IOU = 0.3


@dataclass
class Track:
    id: int
    box: np.ndarray  # [x, y, w, h]: where its person is cut from in the next frame
    anchor: np.ndarray  # its last detection box, which new detections are matched against
    missed: int = 0  # detections in a row that did not find it
    lost: bool = False
    fresh: bool = True  # found by the detector in the current frame


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two ``[x, y, w, h]`` boxes."""
    return float(iou(xyxy(np.asarray(a, np.float64)), xyxy(np.asarray(b, np.float64))[None])[0])


class Tracks:
    """The people of one video: ``boxes(frame, index)`` before the pose model, ``follow(...)`` after it."""

    def __init__(
        self,
        detector: Callable[[np.ndarray], list[np.ndarray]],
        size: tuple[int, int],
        *,
        min_confidence: float,
        detect_every: int = DETECT_EVERY,
        max_missed: int = MAX_MISSED,
        min_iou: float = MIN_IOU,
    ) -> None:
        self.detector, self.size, self.min_confidence = detector, size, min_confidence
        self.detect_every, self.max_missed, self.min_iou = detect_every, max_missed, min_iou
        self.tracks: list[Track] = []
        self.next_id = 0

    def boxes(self, frame: np.ndarray, index: int) -> list[tuple[int, np.ndarray]]:
        """``(track id, box)`` of every person to cut from ``frame``, the detector run when it is due."""
        for track in self.tracks:
            track.fresh = False
        if not self.tracks or index % self.detect_every == 0 or any(t.lost for t in self.tracks):
            self.match([np.asarray(b, np.float64) for b in self.detector(frame)])
        return [(t.id, t.box) for t in self.tracks if not t.lost]

    def match(self, found: list[np.ndarray]) -> None:
        """Assign detections to tracks (best IoU first), start tracks for the rest, end long-missed tracks."""
        pairs = sorted(
            ((overlap(t.anchor, box), i, j) for i, t in enumerate(self.tracks) for j, box in enumerate(found)),
            reverse=True,
        )
        matched_tracks, matched_boxes = set(), set()
        for score, i, j in pairs:
            if score < self.min_iou:
                break
            if i in matched_tracks or j in matched_boxes:
                continue
            matched_tracks.add(i)
            matched_boxes.add(j)
            track = self.tracks[i]
            track.box, track.anchor, track.missed, track.lost, track.fresh = found[j], found[j], 0, False, True
        for i, track in enumerate(self.tracks):
            if i not in matched_tracks:
                track.missed += 1
        self.tracks = [t for t in self.tracks if t.missed <= self.max_missed]
        for j, box in enumerate(found):
            if j not in matched_boxes:
                self.tracks.append(Track(self.next_id, box, box))
                self.next_id += 1

    def found_now(self, track_id: int) -> bool:
        """Whether the detector found this track's person in the current frame."""
        return next(t for t in self.tracks if t.id == track_id).fresh

    def follow(self, track_id: int, joints_img: np.ndarray, confidence: np.ndarray) -> bool:
        """Move the track to its person's joints (or mark it lost when the pose is not confident or has left the
        image); whether the person is written: confident, or found by the detector in this frame."""
        track = next(t for t in self.tracks if t.id == track_id)
        box = box_from_joints(joints_img)
        width, height = self.size
        inside = box[0] < width and box[1] < height and box[0] + box[2] > 0 and box[1] + box[3] > 0
        if float(np.mean(confidence)) < self.min_confidence or not inside:
            track.lost = True
            return track.fresh
        track.box = box
        return True
