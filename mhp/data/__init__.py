"""Datasets: readers of the original on-disk formats, the input pipeline, mixing and synthetic humans."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mhp.data.annotations import Annotations
from mhp.data.coco import read_coco
from mhp.data.h36m import read_h36m
from mhp.data.io import DatasetError
from mhp.data.mpii import read_mpii
from mhp.data.muco import read_muco
from mhp.data.mupots import read_mupots
from mhp.skeleton import COCO, H36M, MPII, MUCO, MUPOTS, JointSet


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    reader: Callable[..., Annotations]
    splits: tuple[str, ...]
    joint_set: JointSet
    has_depth: bool
    layout: str  # one line: what a correct root folder holds


DATASETS = {
    info.name: info
    for info in (
        DatasetInfo(
            name="h36m",
            reader=read_h36m,
            splits=("train", "test"),
            joint_set=H36M,
            has_depth=True,
            layout="images/s_SS_act_AA_subact_BB_ca_CC/*.jpg and annotations/Human36M_subject{S}_*.json",
        ),
        DatasetInfo(
            name="mpii",
            reader=read_mpii,
            splits=("train",),
            joint_set=MPII,
            has_depth=False,
            layout="annotations/train.json and images/*.jpg",
        ),
        DatasetInfo(
            name="coco",
            reader=read_coco,
            splits=("train", "test"),
            joint_set=COCO,
            has_depth=False,
            layout="annotations/person_keypoints_{train,val}2017.json and images/{train,val}2017/*.jpg",
        ),
        DatasetInfo(
            name="muco",
            reader=read_muco,
            splits=("train",),
            joint_set=MUCO,
            has_depth=True,
            layout="data/MuCo-3DHP.json and data/{augmented,unaugmented}_set/*.jpg",
        ),
        DatasetInfo(
            name="mupots",
            reader=read_mupots,
            splits=("test",),
            joint_set=MUPOTS,
            has_depth=True,
            layout="data/MuPoTS-3D.json and data/MultiPersonTestSet/TS{1..20}/img_*.jpg",
        ),
    )
}


SYNTHETIC = "synthetic"  # the built-in data, where a command takes it instead of NAME=ROOT


def split_entry(entry: str) -> tuple[str, Path | None]:
    """A data entry ``"h36m=/data/Human36M"`` -> ("h36m", Path); ``"synthetic"`` -> ("synthetic", None). Nothing
    is checked: a missing root is None."""
    name, _, root = str(entry).partition("=")
    return name.strip().lower(), Path(root.strip()) if root.strip() else None


def data_flag(value: str, allowed: tuple[str, ...], flag: str = "--data") -> tuple[str, Path | None]:
    """A dataset flag's value, ``NAME=ROOT`` with NAME one of ``allowed`` or ``synthetic`` where allowed, as (name,
    root); a DatasetError naming the fix otherwise. The root's layout is checked by the reader."""
    name, root = split_entry(value)
    listed = " or ".join(f"{n}=ROOT" if n != SYNTHETIC else n for n in allowed)
    value = value if value.isprintable() else repr(value)  # one line, whatever was typed
    if name not in allowed:
        raise DatasetError(f"{flag} {value}: not a dataset here; give {listed}")
    if name == SYNTHETIC and root is not None:
        raise DatasetError(f"{flag} {value}: synthetic humans have no folder; give {flag} synthetic")
    if name != SYNTHETIC and root is None:
        raise DatasetError(f"{flag} {value}: give the dataset's folder, {flag} {name}=ROOT")
    return name, root


def dataset_info(name: str) -> DatasetInfo:
    key = str(name).lower()
    if key not in DATASETS:
        raise DatasetError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    return DATASETS[key]


def read_dataset(
    name: str, root: str | Path, split: str, *, protocol: int = 2, bbox_root: str | Path | None = None
) -> Annotations:
    """Read one split of a dataset from its original on-disk layout."""
    info = dataset_info(name)
    if split not in info.splits:
        raise DatasetError(f"{info.name} has the splits {', '.join(info.splits)}, not {split!r}")
    if not Path(root).is_dir():
        raise DatasetError(f"{info.name} root {root} is not a folder; it should hold {info.layout}")
    kwargs: dict = {}
    if info.name == "h36m":
        kwargs["protocol"] = protocol
    if bbox_root is not None:
        if info.name not in ("h36m", "coco", "mupots"):
            raise DatasetError(f"RootNet boxes (--bbox-root) apply to h36m, coco and mupots, not {info.name}")
        kwargs["bbox_root"] = bbox_root
    return info.reader(root, split, **kwargs)
