"""``mhp-data check``: find every problem in a dataset folder, each with its path and the fix.

It reads every split (per subject for Human3.6M, so one broken file does not hide the others), then
decodes a sample of the images of each split and compares their size with the annotation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mhp.data import dataset_info, read_dataset
from mhp.data.annotations import Annotations
from mhp.data.h36m import SUBJECTS, TEST_STRIDE, TRAIN_STRIDE, annotation_files, read_h36m
from mhp.data.io import DatasetError
from mhp.util.fileio import is_file
from mhp.util.image_file import decode

SUBJECTS_ALL = (1, 5, 6, 7, 8, 9, 11)
MAX_IMAGE_PROBLEMS = 20
# Splits a user may legitimately not have; checked only when their marker file exists.
OPTIONAL_SPLITS = {("coco", "test"): Path("annotations") / "person_keypoints_val2017.json"}
FRAME_NAME = re.compile(r"_([0-9]{1,9})\.jpg\Z")  # Human3.6M: ..._NNNNNN.jpg, N = frame + 1


@dataclass
class CheckReport:
    dataset: str
    root: Path
    problems: list[str] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # split -> {subject or group: samples}
    dropped: dict[str, dict[str, int]] = field(default_factory=dict)  # split -> {reason: samples}
    notes: list[str] = field(default_factory=list)
    images_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        out = [f"{self.dataset} at {self.root}"]
        for split, counts in self.counts.items():
            detail = ", ".join(f"{k}: {v}" for k, v in counts.items())
            out.append(f"  {split}: {sum(counts.values())} samples ({detail})")
            for reason, n in self.dropped.get(split, {}).items():
                out.append(f"    skipped {n}: {reason}")
        out += [f"  {note}" for note in self.notes]
        out.append(f"  images decoded: {self.images_checked}")
        out += [f"PROBLEM {p}" for p in self.problems]
        out.append(f"{len(self.problems)} problem(s)" if self.problems else "no problems found")
        return out


def _check_images(annotations: Annotations, report: CheckReport, sample: int, rng: np.random.Generator) -> None:
    _, first = np.unique(annotations.image_paths, return_index=True)
    picked = rng.choice(first, size=min(sample, len(first)), replace=False) if len(first) else []
    bad = 0
    for i in sorted(picked):
        path = annotations.image_path(i)
        report.images_checked += 1
        problem = None
        if not is_file(path):
            problem = f"{path}: image file missing; download/extract the images into {annotations.root}"
        else:
            image = decode(path, upright=False)
            expected = tuple(int(v) for v in annotations.image_sizes[i])
            if image is None:
                problem = f"{path}: cannot be decoded (corrupt or not an image); re-extract it"
            elif (image.shape[1], image.shape[0]) != expected:
                found = (image.shape[1], image.shape[0])
                problem = f"{path}: is {found[0]}x{found[1]} but the annotation says {expected[0]}x{expected[1]}"
        if problem:
            bad += 1
            if bad <= MAX_IMAGE_PROBLEMS:
                report.problems.append(problem)
    if bad > MAX_IMAGE_PROBLEMS:
        report.problems.append(f"{annotations.root}: {bad - MAX_IMAGE_PROBLEMS} more image problems not listed")


def _record(report: CheckReport, key: str, annotations: Annotations, by: str) -> None:
    counts = report.counts.setdefault(key, {})
    for k, v in annotations.counts(by).items():
        counts[k] = counts.get(k, 0) + v
    dropped = report.dropped.setdefault(key, {})
    for reason, n in annotations.dropped.items():
        dropped[reason] = dropped.get(reason, 0) + n


def _frame_index(path: bytes) -> int | None:
    """Frame index from a Human3.6M file name ``..._NNNNNN.jpg`` (N = frame + 1); None for another name."""
    match = FRAME_NAME.search(path.decode("utf-8"))
    return int(match.group(1)) - 1 if match else None


def _check_h36m(root: Path, report: CheckReport, sample_images: int, rng: np.random.Generator) -> None:
    per_subject: dict[int, np.ndarray] = {}
    for subject in SUBJECTS_ALL:
        files = annotation_files(root, subject)
        if not any(p.exists() for p in files.values()):
            report.problems.append(
                f"{files['data']}: subject {subject} missing (with its _camera and _joint_3d files); download it"
            )
            continue
        try:
            annotations = read_h36m(root, "train", subjects=(subject,), stride=1)
        except DatasetError as exc:
            report.problems.append(str(exc))
            continue
        frames = [_frame_index(p) for p in annotations.image_paths]
        unnamed = [p.decode("utf-8") for p, f in zip(annotations.image_paths, frames, strict=True) if f is None]
        if unnamed:
            report.problems.append(
                f"{annotations.root / unnamed[0]}: not a Human3.6M frame name (..._NNNNNN.jpg); "
                f"{len(unnamed)} such image(s) of subject {subject} are not counted"
            )
        per_subject[subject] = np.array([f for f in frames if f is not None], dtype=np.int64)
        dropped = report.dropped.setdefault("all frames", {})
        for reason, n in annotations.dropped.items():
            dropped[reason] = dropped.get(reason, 0) + n
        _check_images(annotations, report, max(1, sample_images // len(SUBJECTS_ALL)), rng)
    report.counts["all frames"] = {f"S{s}": len(f) for s, f in per_subject.items()}
    for (split, protocol), subjects in SUBJECTS.items():
        stride = TRAIN_STRIDE if split == "train" else TEST_STRIDE
        counts = {f"S{s}": int((per_subject[s] % stride == 0).sum()) for s in subjects if s in per_subject}
        report.counts[f"{split}, protocol {protocol} (every {stride}th frame)"] = counts


def check_dataset(name: str, root: str | Path, *, sample_images: int = 50, seed: int = 0) -> CheckReport:
    """Check a dataset folder; ``report.problems`` lists everything that would stop or corrupt training."""
    info = dataset_info(name)
    root = Path(root)
    report = CheckReport(info.name, root)
    if not root.is_dir():
        report.problems.append(f"{root}: not a folder; --data NAME=ROOT should hold {info.layout}")
        return report
    rng = np.random.default_rng(seed)
    if info.name == "h36m":
        _check_h36m(root, report, sample_images, rng)
        return report
    for split in info.splits:
        marker = OPTIONAL_SPLITS.get((info.name, split))
        if marker is not None and not (root / marker).exists():
            report.notes.append(f"{split} split not present (optional: it needs {root / marker})")
            continue
        try:
            annotations = read_dataset(info.name, root, split)
        except DatasetError as exc:
            report.problems.append(str(exc))
            continue
        _record(report, split, annotations, "group")
        _check_images(annotations, report, sample_images, rng)
    return report
