"""Mixing 3D and 2D datasets 50/50 (reference §7), and samplers that are correct under DDP.

Group A concatenates the 3D sets, group B the 2D sets; an epoch has 2 * max(|A|, |B|) samples, the first
half from A and the second from B. The shorter group is cycled; the indices past its last whole cycle are
drawn uniformly at random, as the original, but from ``default_rng([seed, epoch, group])`` instead of the
global RNG, so every process and worker maps an index to the same sample: a DistributedSampler then gives
each rank distinct samples. The mixed index is also the read number a dataset with ``read(index, read)``
draws its augmentation from, so a sample read twice in an epoch is augmented twice, differently.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import ConcatDataset, Dataset, DistributedSampler, Sampler


def _set_epoch(dataset: Dataset, epoch: int) -> None:
    if isinstance(dataset, ConcatDataset):
        for child in dataset.datasets:
            _set_epoch(child, epoch)
    elif hasattr(dataset, "set_epoch"):
        dataset.set_epoch(epoch)


class MixedDataset(Dataset):
    def __init__(self, datasets_3d: Sequence[Dataset], datasets_2d: Sequence[Dataset] = (), seed: int = 0) -> None:
        if not datasets_3d or any(len(d) == 0 for d in (*datasets_3d, *datasets_2d)):
            raise ValueError("MixedDataset needs at least one 3D dataset and no empty dataset")
        self.groups = [ConcatDataset(list(datasets_3d))]
        if datasets_2d:
            self.groups.append(ConcatDataset(list(datasets_2d)))
        self.group_len = max(len(g) for g in self.groups)
        self.seed, self.epoch = seed, 0
        self._extra: dict[tuple[int, int], np.ndarray] = {}

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        for group in self.groups:
            _set_epoch(group, epoch)

    def __len__(self) -> int:
        return self.group_len * len(self.groups) if len(self.groups) > 1 else len(self.groups[0])

    def locate(self, index: int) -> tuple[int, int]:
        """(group, index within the group) of a mixed index."""
        if len(self.groups) == 1:
            return 0, index
        g, k = divmod(index, self.group_len)
        n = len(self.groups[g])
        whole = (self.group_len // n) * n
        if k < whole:
            return g, k % n
        key = (self.epoch, g)
        if key not in self._extra:
            self._extra = {k: v for k, v in self._extra.items() if k[0] == self.epoch}  # drop older epochs
            rng = np.random.default_rng([self.seed, self.epoch, g])
            self._extra[key] = rng.integers(0, n, size=self.group_len - whole)
        return g, int(self._extra[key][k - whole])

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        g, k = self.locate(index)
        group = self.groups[g]
        d = bisect.bisect_right(group.cumulative_sizes, k)
        dataset, local = group.datasets[d], k - (group.cumulative_sizes[d - 1] if d else 0)
        return dataset.read(local, index) if hasattr(dataset, "read") else dataset[local]


class EpochShuffleSampler(Sampler[int]):
    """A single-process random permutation seeded by (seed, epoch), so runs and resumes are reproducible."""

    def __init__(self, length: int, seed: int = 0, shuffle: bool = True) -> None:
        self.length, self.seed, self.shuffle, self.epoch = length, seed, shuffle, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[int]:
        if not self.shuffle:
            return iter(range(self.length))
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        return iter(torch.randperm(self.length, generator=generator).tolist())


class SkipSampler(Sampler[int]):
    """The indices of ``sampler`` after its first ``skip``: resumes an epoch where a checkpoint left it."""

    def __init__(self, sampler: Sampler[int], skip: int) -> None:
        self.sampler, self.skip = sampler, skip

    def __len__(self) -> int:
        return max(len(self.sampler) - self.skip, 0)

    def __iter__(self) -> Iterator[int]:
        return iter(list(self.sampler)[self.skip :])


def make_sampler(
    dataset: Dataset,
    *,
    shuffle: bool,
    seed: int = 0,
    num_replicas: int = 1,
    rank: int = 0,
    drop_last: bool = False,
) -> Sampler[int]:
    """DistributedSampler when ``num_replicas`` > 1 (each rank a distinct shard), else an epoch-seeded shuffle."""
    if num_replicas > 1:
        return DistributedSampler(
            dataset, num_replicas=num_replicas, rank=rank, shuffle=shuffle, seed=seed, drop_last=drop_last
        )
    return EpochShuffleSampler(len(dataset), seed, shuffle)
