"""3D/2D mixing (reference §7) and distributed sampling."""

import numpy as np
import pytest
from torch.utils.data import Dataset

from mhp.data.mix import EpochShuffleSampler, MixedDataset, make_sampler


class Labelled(Dataset):
    def __init__(self, name, n):
        self.name, self.n, self.epoch = name, n, None

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return (self.name, i)


def test_half_3d_half_2d_with_the_shorter_group_cycled():
    mixed = MixedDataset([Labelled("h36m", 7), Labelled("muco", 3)], [Labelled("mpii", 25)], seed=1)
    assert len(mixed) == 2 * 25
    items = [mixed[i] for i in range(len(mixed))]
    assert sum(name == "mpii" for name, _ in items) == 25
    group_a = items[:25]
    # 10 samples in group A: two whole cycles (20) then 5 random draws
    assert group_a[:20] == [(n, i) for n, i in [mixed.groups[0][k] for k in list(range(10)) * 2]]
    assert all(item in [mixed.groups[0][k] for k in range(10)] for item in group_a[20:])
    assert [mixed[i] for i in range(25, 50)] == [("mpii", i) for i in range(25)]


def test_the_random_remainder_is_deterministic_per_epoch_and_changes_between_epochs():
    a = MixedDataset([Labelled("a", 7)], [Labelled("b", 100)], seed=3)
    b = MixedDataset([Labelled("a", 7)], [Labelled("b", 100)], seed=3)
    assert [a[i] for i in range(100)] == [b[i] for i in range(100)]  # another process maps the same way
    remainders = []
    for epoch in range(4):
        a.set_epoch(epoch)
        remainders.append(tuple(a.locate(i)[1] for i in range(98, 100)))
    assert len(set(remainders)) > 1


def test_set_epoch_reaches_the_datasets():
    inner = Labelled("a", 4)
    mixed = MixedDataset([inner], [Labelled("b", 2)])
    mixed.set_epoch(5)
    assert inner.epoch == 5


def test_3d_only_is_just_group_a():
    mixed = MixedDataset([Labelled("a", 4), Labelled("b", 2)])
    assert len(mixed) == 6
    assert [mixed[i] for i in range(6)] == [("a", 0), ("a", 1), ("a", 2), ("a", 3), ("b", 0), ("b", 1)]


def test_empty_or_missing_3d_sets_are_refused():
    with pytest.raises(ValueError, match="3D"):
        MixedDataset([], [Labelled("b", 3)])
    with pytest.raises(ValueError, match="empty"):
        MixedDataset([Labelled("a", 0)])


@pytest.mark.parametrize("world", [2, 3])
def test_distributed_ranks_draw_distinct_samples(world):
    mixed = MixedDataset([Labelled("a", 11)], [Labelled("b", 40)], seed=0)
    shards = []
    for rank in range(world):
        sampler = make_sampler(mixed, shuffle=True, seed=7, num_replicas=world, rank=rank)
        sampler.set_epoch(2)
        shards.append(list(sampler))
    flat = [i for shard in shards for i in shard]
    padded = len(flat) - len(mixed)
    assert 0 <= padded < world  # DistributedSampler pads to a multiple of the world size
    assert set(flat) == set(range(len(mixed)))
    assert len(set(shards[0]) & set(shards[1])) <= padded


def test_single_process_sampler_is_a_seeded_permutation():
    s = EpochShuffleSampler(50, seed=4)
    first = list(s)
    assert sorted(first) == list(range(50))
    assert first != list(range(50))
    assert list(EpochShuffleSampler(50, seed=4)) == first
    s.set_epoch(1)
    assert list(s) != first
    assert list(EpochShuffleSampler(5, shuffle=False)) == [0, 1, 2, 3, 4]
    assert isinstance(make_sampler(Labelled("a", 3), shuffle=True), EpochShuffleSampler)
    assert np.unique(list(s)).size == 50
