"""The training and validation data a :class:`~mhp.config.TrainConfig` asks for.

Entries are ``NAME=ROOT`` (h36m, muco as 3D sets; mpii, coco as 2D sets) or ``synthetic``. With no dataset
the run trains on synthetic humans and validates on held-out synthetic humans. A run on Human3.6M or MuCo-3DHP
validates on a slice held out of its training split (``mhp.data.holdout``) and does not train on it; a test
split (Human3.6M's test subjects, MuPoTS-3D) is never used for any choice. ``--val-data none`` trains on the
whole training split, as the original did, without validation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from mhp.config import TrainConfig
from mhp.data import SYNTHETIC, dataset_info, read_dataset, split_entry
from mhp.data.annotations import Annotations, Record
from mhp.data.dataset import CropConfig, PoseDataset, Source
from mhp.data.holdout import HOLDOUT_DATASETS, default_validation, describe_slice, split_validation
from mhp.data.io import DatasetError
from mhp.data.mix import MixedDataset
from mhp.data.synthetic import VAL_SEED_OFFSET, SyntheticHumans
from mhp.data.transforms import AugmentConfig
from mhp.skeleton import H36M, JointSet, get_joint_set, remap_joints

NO_VALIDATION = "none"


class DepthHidden:
    """A 3D source presented as a 2D-only one (no depth supervision): synthetic stand-in for MPII/COCO."""

    has_depth = False

    def __init__(self, source: Source) -> None:
        self.source, self.joint_set = source, source.joint_set

    def __len__(self) -> int:
        return len(self.source)

    def record(self, i: int) -> Record:
        return self.source.record(i)

    def load_image(self, i: int, reduce: int = 1) -> np.ndarray | None:
        return self.source.load_image(i, reduce)


@dataclass
class TrainData:
    train: MixedDataset
    val: PoseDataset | None
    val_name: str
    joint_set: JointSet
    sources_3d: list[Source]
    description: str  # the first line a run prints


def parse_entry(entry: str) -> tuple[str, Path | None]:
    """``split_entry`` with the dataset and its root folder checked."""
    name, root = split_entry(entry)
    if name == SYNTHETIC:
        return name, None
    dataset_info(name)
    if root is None:
        raise DatasetError(f"dataset entry {entry!r} needs a root folder: write {name}=/path/to/{name}")
    if not root.is_dir():
        raise DatasetError(f"{name} root {root} is not a folder; it should hold {dataset_info(name).layout}")
    return name, root


def _source(entry: str, tables: dict[str, Annotations], cfg: TrainConfig, joint_set: JointSet, seed: int) -> Source:
    """A training source: synthetic humans, or the table read for ``entry``."""
    if parse_entry(entry)[0] == SYNTHETIC:
        size = (cfg.synthetic_image_size, cfg.synthetic_image_size)
        return SyntheticHumans(cfg.synthetic_samples, joint_set=joint_set, seed=seed, image_size=size)
    return tables[entry]


def validation_entry(val_data: str | None, entries: tuple[str, ...], *, lift: bool = False) -> str | None:
    """The set to validate on: ``val_data``, else the default (``default_validation``); None for ``none``.
    Refuses test sets."""
    entry = default_validation(entries, lift=lift) if val_data is None else val_data
    if entry.strip().lower() == NO_VALIDATION:
        return None
    name, _ = parse_entry(entry)
    if name == "mupots":
        raise DatasetError(
            f"--val-data {entry}: MuPoTS-3D is the test set of the MuCo protocol and best.pt must not be chosen on it; "
            "validate on MuCo's held-out slice (the default) or pass --val-data none"
        )
    if name not in (SYNTHETIC, *HOLDOUT_DATASETS):
        raise DatasetError(f"--val-data {entry}: validation needs 3D poses; pass h36m=ROOT, muco=ROOT, synthetic, none")
    return entry


def read_training_tables(
    entries: tuple[str, ...], val_entry: str | None, protocol: int
) -> tuple[dict[str, Annotations], Annotations | None]:
    """Each dataset entry's training table, and the validation slice: held out of ``val_entry``'s training split
    and, where that set is also trained on, removed from its table."""
    real = [e for e in entries if parse_entry(e)[0] != SYNTHETIC]
    tables = {e: read_dataset(*parse_entry(e), "train", protocol=protocol) for e in real}
    if val_entry is None or parse_entry(val_entry)[0] == SYNTHETIC:
        return tables, None
    key = _dataset_key(val_entry)
    trained = [e for e in tables if _dataset_key(e) == key]
    full = tables[trained[0]] if trained else read_dataset(*key, "train", protocol=protocol)
    fit, val = split_validation(full)
    return {e: fit if e in trained else t for e, t in tables.items()}, val


def _dataset_key(entry: str) -> tuple[str, Path]:
    name, root = parse_entry(entry)
    return name, Path(root).resolve()


def default_joint_set(cfg: TrainConfig, entries_3d: tuple[str, ...]) -> JointSet:
    """The configured joint set, else the first 3D set's (reference §8.5), else Human3.6M's."""
    if cfg.joint_set:
        return get_joint_set(cfg.joint_set)
    name, _ = parse_entry(entries_3d[0])
    return H36M if name == SYNTHETIC else dataset_info(name).joint_set


def build_train_data(cfg: TrainConfig, crop: CropConfig) -> TrainData:
    entries_3d = cfg.data_3d or (SYNTHETIC,)
    joint_set = default_joint_set(cfg, entries_3d)
    for entry in entries_3d:
        if parse_entry(entry)[0] in ("mpii", "coco"):
            raise DatasetError(f"{entry} is a 2D dataset; pass it with --data-2d")
    for entry in cfg.data_2d:
        if parse_entry(entry)[0] in ("h36m", "muco", "mupots"):
            raise DatasetError(f"{entry} is a 3D dataset; pass it with --data-3d")

    augment = AugmentConfig(
        scale_factor=cfg.scale_factor,
        rotation_factor=cfg.rotation_factor,
        rotation_prob=cfg.rotation_prob,
        flip_prob=cfg.flip_prob,
        color_factor=cfg.color_factor,
        occlusion_prob=cfg.occlusion_prob,
    )

    # Synthetic people are colour-coded left/right; a mirrored one (warm limbs labelled right) is not in the
    # data distribution and teaches the model to ignore the cue, so they are never flipped.
    unflipped = replace(augment, flip_prob=0.0)

    def train_set(source: Source) -> PoseDataset:
        synthetic = isinstance(source, SyntheticHumans) or isinstance(getattr(source, "source", None), SyntheticHumans)
        return PoseDataset(
            source,
            joint_set,
            crop,
            train=True,
            augment=unflipped if synthetic else augment,
            seed=cfg.seed,
            fast_decode=cfg.fast_decode,
        )

    val_entry = validation_entry(cfg.val_data, entries_3d)
    tables, val_table = read_training_tables((*entries_3d, *cfg.data_2d), val_entry, cfg.protocol)
    sources_3d = [_source(e, tables, cfg, joint_set, cfg.seed) for e in entries_3d]
    sources_2d = [
        DepthHidden(_source(e, tables, cfg, joint_set, cfg.seed + 1))
        if parse_entry(e)[0] == SYNTHETIC
        else _source(e, tables, cfg, joint_set, cfg.seed)
        for e in cfg.data_2d
    ]
    for source, entry in zip([*sources_3d, *sources_2d], [*entries_3d, *cfg.data_2d], strict=True):
        if len(source) == 0:
            raise DatasetError(f"{entry} has no training samples; check it with mhp-data check")
    train = MixedDataset([train_set(s) for s in sources_3d], [train_set(s) for s in sources_2d], seed=cfg.seed)
    val, val_name = _validation(cfg, crop, joint_set, val_entry, val_table)
    labels = [parse_entry(e)[0] for e in entries_3d]
    labels += [
        f"{parse_entry(e)[0]} (2D{', depth hidden' if parse_entry(e)[0] == SYNTHETIC else ''})" for e in cfg.data_2d
    ]
    mixing = ", 3D/2D mixed 50/50" if cfg.data_2d else ""
    if not cfg.data_3d:
        description = (
            f"training on synthetic humans (no dataset given){' + ' + ' + '.join(labels[1:]) if cfg.data_2d else ''}: "
            f"{len(train)} samples per epoch{mixing}, {cfg.synthetic_image_size}x{cfg.synthetic_image_size} renders, "
            "no flip augmentation (left/right colour coding); pass --data-3d h36m=ROOT for real data"
        )
    else:
        description = f"training on {' + '.join(labels)}: {len(train)} samples per epoch{mixing}"
    return TrainData(train, val, val_name, joint_set, sources_3d, description)


def _validation(
    cfg: TrainConfig, crop: CropConfig, joint_set: JointSet, entry: str | None, table: Annotations | None
) -> tuple[PoseDataset | None, str]:
    if entry is None:
        return None, "no validation (--val-data none): best.pt is the last epoch"
    if table is None:
        size = (cfg.synthetic_image_size, cfg.synthetic_image_size)
        seed = cfg.seed + VAL_SEED_OFFSET
        source = SyntheticHumans(cfg.synthetic_val_samples, joint_set=joint_set, seed=seed, image_size=size)
        label = f"held-out synthetic, {len(source)} samples"
    else:
        source, label = table, f"{table.name} {describe_slice(table)}, {len(table)} samples, not trained on"
    return PoseDataset(source, joint_set, crop, train=False, fast_decode=cfg.fast_decode), label


def training_poses(sources: list[Source], joint_set: JointSet, limit: int = 2000) -> torch.Tensor:
    """Up to ``limit`` 3D training poses ``(N, J, 3)`` in mm, evenly spread over the sources' samples."""
    poses = []
    for source in sources:
        for i in np.linspace(0, len(source) - 1, num=min(limit, len(source)), dtype=int):
            poses.append(remap_joints(source.record(int(i)).joints_cam, source.joint_set, joint_set))
    return torch.as_tensor(np.stack(poses), dtype=torch.float32)
