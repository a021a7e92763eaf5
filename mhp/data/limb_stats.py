"""The limb prior of a dataset's 3D poses (``mhp-data stats``): read them, remap them, measure them, tabulate."""

from __future__ import annotations

from pathlib import Path

from mhp.data import dataset_info, read_dataset
from mhp.data.io import DatasetError
from mhp.data.lift_pairs import pairs_from_annotations, synthetic_pairs
from mhp.limbs import LimbPrior, limb_prior
from mhp.skeleton import JointSet, get_joint_set

DATASETS_3D = ("h36m", "muco", "mupots")


def dataset_limb_prior(
    name: str, root: str | Path, split: str | None = None, *, protocol: int = 2, joint_set: JointSet | None = None
) -> LimbPrior:
    """The prior of the 3D poses of a dataset split (default: its first split), remapped to ``joint_set``
    (default: the dataset's own)."""
    info = dataset_info(name)
    if not info.has_depth:
        raise DatasetError(
            f"{info.name} is a 2D dataset (no 3D poses to measure); use {', '.join(DATASETS_3D)} or synthetic"
        )
    joint_set = joint_set or info.joint_set
    missing = sorted({joint_set.joints[i] for bone in joint_set.bones for i in bone} - set(info.joint_set.joints))
    if missing:
        raise DatasetError(
            f"{info.name} poses lack {', '.join(missing)}, joints of the {joint_set.name} bones; "
            f"choose a --joint-set they cover (their own: {info.joint_set.name})"
        )
    split = split or info.splits[0]
    table = read_dataset(info.name, root, split, protocol=protocol)
    pairs = pairs_from_annotations(table, joint_set)
    what = f"{info.name} {split}" + (f" protocol {protocol}" if info.name == "h36m" else "")
    return limb_prior(pairs.joints_3d, joint_set, pairs.visible, source=f"{what}, {len(table)} poses")


def synthetic_limb_prior(samples: int, seed: int, joint_set: JointSet) -> LimbPrior:
    """The prior of ``samples`` synthetic people (the body model's poses and shapes; no images rendered)."""
    pairs = synthetic_pairs(samples, seed, joint_set)
    source = f"synthetic humans, {samples} poses, seed {seed}"
    return limb_prior(pairs.joints_3d, joint_set, pairs.visible, source=source)


def prior_table(prior: LimbPrior) -> str:
    """One line per bone: its name, mean and standard deviation (mm) and how many poses measured it."""
    joint_set = get_joint_set(prior.joint_set)
    names = [f"{joint_set.joints[a]}-{joint_set.joints[b]}" for a, b in prior.bones]
    width = max(len("bone"), *map(len, names))
    lines = [f"{'bone'.ljust(width)}  {'mean mm':>8}  {'std mm':>7}  {'samples':>8}"]
    for name, mean, std, count in zip(names, prior.mean_mm, prior.std_mm, prior.samples, strict=True):
        lines.append(f"{name.ljust(width)}  {mean:8.1f}  {std:7.1f}  {count:8d}")
    return "\n".join(lines)
