"""The poses a lifter trains and validates on, as a :class:`~mhp.config.TrainConfig` with ``--task lift`` asks.

``--supervision 3d`` takes 2D/3D pairs from ``--data-3d`` (h36m, muco or synthetic; default synthetic people under
random cameras). ``--supervision 2d`` takes 2D poses only: from ``--data-2d`` (mpii, coco or synthetic
projections), else the 2D half of ``--data-3d``; any 3D there is dropped before training sees it. Validation
always needs 3D: the slice held out of the first Human3.6M / MuCo entry's training split (not trained on), else
held-out synthetic people, or ``--val-data`` (h36m=ROOT, muco=ROOT, synthetic, none).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mhp.config import TrainConfig
from mhp.data import dataset_info
from mhp.data.annotations import Annotations
from mhp.data.holdout import describe_slice
from mhp.data.io import DatasetError
from mhp.data.lift_pairs import PosePairs, pairs_from_annotations, synthetic_pairs
from mhp.data.synthetic import VAL_SEED_OFFSET
from mhp.limbs import LimbPrior, limb_prior, read_limb_prior
from mhp.skeleton import H36M, JointSet, get_joint_set
from mhp.train.data import SYNTHETIC, parse_entry, read_training_tables, validation_entry

PRIOR_POSES = 2000  # synthetic poses measured when training on 2D poses without --limb-prior


@dataclass(frozen=True)
class LiftData:
    train: PosePairs  # joints_3d is None for --supervision 2d
    val: PosePairs
    val_name: str
    joint_set: JointSet
    prior: LimbPrior
    mean_pose_mm: np.ndarray | None  # the mean 3D training pose (the baseline), when 3D poses exist
    description: str


def lift_entries(cfg: TrainConfig) -> tuple[str, ...]:
    """The training entries of a lift run, checked against its supervision."""
    if cfg.supervision == "3d":
        if cfg.data_2d:
            raise DatasetError("--data-2d gives 2D poses only; train a lifter on them with --supervision 2d")
        return cfg.data_3d or (SYNTHETIC,)
    return cfg.data_2d or cfg.data_3d or (SYNTHETIC,)


def lift_joint_set(cfg: TrainConfig, entries: tuple[str, ...]) -> JointSet:
    """``--joint-set``, else the first entry's own set (Human3.6M's for synthetic people)."""
    if cfg.joint_set:
        return get_joint_set(cfg.joint_set)
    name, _ = parse_entry(entries[0])
    return H36M if name == SYNTHETIC else dataset_info(name).joint_set


def read_pairs(entry: str, table: Annotations | None, joint_set: JointSet, *, seed: int, samples: int) -> PosePairs:
    """Complete poses of one entry (every joint of ``joint_set`` annotated), 3D where the entry has it: ``samples``
    synthetic people, or those of the entry's ``table``."""
    name, _ = parse_entry(entry)
    if table is None:
        return synthetic_pairs(samples, seed, joint_set)
    pairs = pairs_from_annotations(table, joint_set)
    complete = pairs.complete()
    if len(complete) == 0:
        lacking = [joint_set.joints[j] for j in np.flatnonzero(~pairs.visible.any(axis=0))]
        hint = f" ({name} has no {', '.join(lacking)})" if lacking else ""
        raise DatasetError(
            f"{entry} {table.split} has no pose with every {joint_set.name} joint{hint}; train the lifter on "
            f"{name}'s own joints with --joint-set {dataset_info(name).joint_set.name}"
        )
    return complete


def concat_pairs(parts: list[PosePairs], joint_set: JointSet, keep_3d: bool) -> PosePairs:
    with_3d = keep_3d and all(p.joints_3d is not None for p in parts)
    return PosePairs(
        joint_set,
        np.concatenate([p.joints_2d for p in parts]),
        np.concatenate([p.joints_3d for p in parts]) if with_3d else None,
        np.concatenate([p.visible for p in parts]),
    )


def build_lift_data(cfg: TrainConfig) -> LiftData:
    entries = lift_entries(cfg)
    joint_set = lift_joint_set(cfg, entries)
    val_entry = validation_entry(cfg.val_data, entries, lift=True)
    if val_entry is None:
        raise DatasetError("a lifter run validates every epoch; pass --val-data h36m=ROOT, muco=ROOT or synthetic")
    tables, val_table = read_training_tables(entries, val_entry, cfg.protocol)
    parts = [read_pairs(e, tables.get(e), joint_set, seed=cfg.seed, samples=cfg.synthetic_samples) for e in entries]
    supervised = cfg.supervision == "3d"
    if supervised and any(p.joints_3d is None for p in parts):
        raise DatasetError(f"{entries[0]} has 2D poses only; pass it with --data-2d and --supervision 2d")
    every_3d = concat_pairs(parts, joint_set, keep_3d=True)
    train = concat_pairs(parts, joint_set, keep_3d=supervised)

    val = read_pairs(
        val_entry, val_table, joint_set, seed=cfg.seed + VAL_SEED_OFFSET, samples=cfg.synthetic_val_samples
    )
    if val.joints_3d is None:
        raise DatasetError(f"--val-data {val_entry} has no 3D poses; validate a lifter on h36m or synthetic")
    held_out = "held-out synthetic" if val_table is None else f"{val_table.name} {describe_slice(val_table)}"
    val_name = f"{held_out}, {len(val)} poses"

    poses_3d = every_3d.joints_3d
    if cfg.limb_prior:
        prior = read_limb_prior(cfg.limb_prior, joint_set)
    elif supervised:
        prior = limb_prior(poses_3d, joint_set, source="the 3D training poses")
    else:
        synthetic = synthetic_pairs(PRIOR_POSES, cfg.seed, joint_set).joints_3d
        prior = limb_prior(synthetic, joint_set, source=f"{PRIOR_POSES} synthetic body-model poses")

    labels = [parse_entry(e)[0] for e in entries]
    what = "2D/3D pairs" if supervised else "2D poses only (3D never seen)"
    description = f"training a {joint_set.name} lifter on {' + '.join(labels)} {what}: {len(train)} poses per epoch" + (
        "; synthetic people under random cameras, no images rendered" if SYNTHETIC in labels else ""
    )
    mean = None if poses_3d is None else poses_3d.mean(axis=0)
    return LiftData(train, val, val_name, joint_set, prior, mean, description)
