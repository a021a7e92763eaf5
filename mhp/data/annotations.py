"""One person in one image, and the columnar table every reader returns.

Readers build an :class:`Annotations` table of numpy arrays (not a list of Python objects): a Human3.6M
training split holds ~300k samples, and DataLoader workers forked from the main process would otherwise
copy every object as reference counts change.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from mhp.skeleton import JointSet
from mhp.util.image_file import decode


@dataclass(frozen=True)
class Record:
    """One person sample in its dataset's own joint set.

    ``joints_img`` holds (x, y) in original-image pixels and z = depth relative to the root in mm (0 for 2D
    datasets). ``bbox`` is the processed box (reference §6.1) the crop is cut from; ``bbox_raw`` the annotated or
    detected one. ``root_cam``, ``focal`` and ``principal`` are zeros / nominal where a dataset has none.
    """

    image_path: str
    image_id: int
    width: int
    height: int
    bbox_raw: np.ndarray
    bbox: np.ndarray
    joints_img: np.ndarray
    joints_cam: np.ndarray
    joints_vis: np.ndarray
    root_cam: np.ndarray
    focal: np.ndarray
    principal: np.ndarray
    group: str
    subject: int
    score: float


@dataclass
class Annotations:
    """A dataset split as arrays; ``record(i)`` gives one :class:`Record`."""

    name: str
    split: str
    root: Path
    joint_set: JointSet
    has_depth: bool
    has_gt: bool  # False for detection-only test sets (RootNet boxes without ground truth)
    image_paths: np.ndarray  # bytes, relative to root
    image_ids: np.ndarray
    image_sizes: np.ndarray  # (N, 2) width, height
    bbox_raw: np.ndarray
    bbox: np.ndarray
    joints_img: np.ndarray  # (N, J, 3) float32
    joints_cam: np.ndarray  # (N, J, 3) float32
    joints_vis: np.ndarray  # (N, J) float32
    root_cam: np.ndarray
    focal: np.ndarray
    principal: np.ndarray
    group_codes: np.ndarray
    group_names: tuple[str, ...]
    subjects: np.ndarray
    scores: np.ndarray
    dropped: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.image_ids)

    def image_path(self, i: int) -> Path:
        return self.root / self.image_paths[i].decode("utf-8")

    def load_image(self, i: int, reduce: int = 1) -> np.ndarray | None:
        """The image of sample ``i`` as BGR uint8 (at 1/``reduce`` scale), or None if it cannot be read."""
        return decode(self.image_path(i), reduce, upright=False)

    def record(self, i: int) -> Record:
        return Record(
            image_path=str(self.image_path(i)),
            image_id=int(self.image_ids[i]),
            width=int(self.image_sizes[i, 0]),
            height=int(self.image_sizes[i, 1]),
            bbox_raw=self.bbox_raw[i],
            bbox=self.bbox[i],
            joints_img=self.joints_img[i].astype(np.float64),
            joints_cam=self.joints_cam[i].astype(np.float64),
            joints_vis=self.joints_vis[i].astype(np.float64),
            root_cam=self.root_cam[i],
            focal=self.focal[i],
            principal=self.principal[i],
            group=self.group_names[self.group_codes[i]],
            subject=int(self.subjects[i]),
            score=float(self.scores[i]),
        )

    def select(self, keep: np.ndarray, split: str) -> Annotations:
        """The rows where ``keep`` is true, as a table labelled ``split``."""
        return replace(self, split=split, **{name: getattr(self, name)[keep] for name in _COLUMNS})

    def counts(self, by: str = "group") -> dict[str, int]:
        """Samples per group label (``by="group"``) or per subject (``by="subject"``)."""
        if by == "subject":
            values, n = np.unique(self.subjects, return_counts=True)
            return {str(v): int(c) for v, c in zip(values, n, strict=True)}
        codes, n = np.unique(self.group_codes, return_counts=True)
        return {self.group_names[c]: int(k) for c, k in zip(codes, n, strict=True)}


class AnnotationBuilder:
    """Collects samples one by one, drops unusable ones with a counted reason, then builds the table."""

    def __init__(
        self, name: str, split: str, root: Path, joint_set: JointSet, *, has_depth: bool, has_gt: bool = True
    ) -> None:
        self.meta = {"name": name, "split": split, "root": Path(root), "joint_set": joint_set}
        self.has_depth, self.has_gt = has_depth, has_gt
        self.rows: dict[str, list] = {k: [] for k in _COLUMNS}
        self.groups: dict[str, int] = {}
        self.dropped: dict[str, int] = {}

    @property
    def joint_set(self) -> JointSet:
        return self.meta["joint_set"]

    def drop(self, reason: str, count: int = 1) -> None:
        if count:
            self.dropped[reason] = self.dropped.get(reason, 0) + count

    def add(
        self,
        *,
        image_path: str,
        image_id: int,
        width: int,
        height: int,
        bbox_raw: np.ndarray,
        bbox: np.ndarray | None,
        joints_img: np.ndarray,
        joints_vis: np.ndarray,
        joints_cam: np.ndarray | None = None,
        root_cam: np.ndarray | None = None,
        focal: np.ndarray | None = None,
        principal: np.ndarray | None = None,
        group: str = "",
        subject: int = 0,
        score: float = 1.0,
    ) -> bool:
        """Add a sample; returns False (and counts the reason) when it cannot be used."""
        j = self.joint_set.num_joints
        joints_cam = np.zeros((j, 3)) if joints_cam is None else joints_cam
        if not _storable(joints_img, joints_cam, bbox_raw, bbox, root_cam, focal, principal, score):
            self.drop("NaN or infinite coordinates")
            return False
        if bbox is None or not (bbox[2] > 0 and bbox[3] > 0):
            self.drop("box empty or outside the image")
            return False
        if self.has_gt and not np.any(joints_vis > 0):
            self.drop("no visible joints")
            return False
        values = {
            "image_paths": image_path.encode("utf-8"),
            "image_ids": image_id,
            "image_sizes": (width, height),
            "bbox_raw": bbox_raw,
            "bbox": bbox,
            "joints_img": joints_img,
            "joints_cam": joints_cam,
            "joints_vis": (np.asarray(joints_vis).reshape(j) > 0),
            "root_cam": np.zeros(3) if root_cam is None else root_cam,
            "focal": np.zeros(2) if focal is None else focal,
            "principal": np.zeros(2) if principal is None else principal,
            "group_codes": self.groups.setdefault(group, len(self.groups)),
            "subjects": subject,
            "scores": score,
        }
        for key, value in values.items():
            self.rows[key].append(value)
        return True

    def build(self) -> Annotations:
        j = self.joint_set.num_joints
        n = len(self.rows["image_ids"])

        def stacked(key: str, shape: tuple[int, ...], dtype: type) -> np.ndarray:
            return np.asarray(self.rows[key], dtype=dtype).reshape((n, *shape))

        return Annotations(
            **self.meta,
            has_depth=self.has_depth,
            has_gt=self.has_gt,
            image_paths=np.asarray(self.rows["image_paths"], dtype=np.bytes_) if n else np.zeros(0, np.bytes_),
            image_ids=stacked("image_ids", (), np.int64),
            image_sizes=stacked("image_sizes", (2,), np.int32),
            bbox_raw=stacked("bbox_raw", (4,), np.float64),
            bbox=stacked("bbox", (4,), np.float64),
            joints_img=stacked("joints_img", (j, 3), np.float32),
            joints_cam=stacked("joints_cam", (j, 3), np.float32),
            joints_vis=stacked("joints_vis", (j,), np.float32),
            root_cam=stacked("root_cam", (3,), np.float64),
            focal=stacked("focal", (2,), np.float64),
            principal=stacked("principal", (2,), np.float64),
            group_codes=stacked("group_codes", (), np.int32),
            group_names=tuple(self.groups),
            subjects=stacked("subjects", (), np.int32),
            scores=stacked("scores", (), np.float32),
            dropped=dict(self.dropped),
        )


def _storable(*values: np.ndarray | float | None) -> bool:
    """Every number finite and within float32 range (the joint columns are float32); None passes."""
    return all(v is None or bool(np.all(np.abs(np.asarray(v, np.float64)) <= FLOAT32_MAX)) for v in values)


FLOAT32_MAX = float(np.finfo(np.float32).max)
_COLUMNS = (
    "image_paths",
    "image_ids",
    "image_sizes",
    "bbox_raw",
    "bbox",
    "joints_img",
    "joints_cam",
    "joints_vis",
    "root_cam",
    "focal",
    "principal",
    "group_codes",
    "subjects",
    "scores",
)
