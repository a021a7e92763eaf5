"""``PoseDataset``: records + images -> network inputs and voxel targets in the model's joint set.

A *source* is anything with ``joint_set``, ``has_depth``, ``__len__``, ``record(i)`` and
``load_image(i, reduce)``: a reader's :class:`Annotations` table, or the on-the-fly synthetic humans.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
from torch.utils.data import Dataset

from mhp.data.annotations import Record
from mhp.data.io import DatasetError
from mhp.data.transforms import (
    NO_AUGMENTATION,
    AugmentConfig,
    build_targets,
    decode_reduction,
    occlude,
    sample_augmentation,
    sample_crop_affine,
    to_network_input,
    warp_patch,
)
from mhp.skeleton import JointSet, remap_joints


class Source(Protocol):
    joint_set: JointSet
    has_depth: bool

    def __len__(self) -> int: ...

    def record(self, i: int) -> Record: ...

    def load_image(self, i: int, reduce: int = 1) -> np.ndarray | None: ...


@dataclass(frozen=True)
class CropConfig:
    """What the model expects: patch side, heatmap (W, H), depth bins, normalisation."""

    patch_size: int = 256
    heatmap_size: tuple[int, int] = (32, 32)
    depth_bins: int = 32
    normalization: str = "legacy"

    @classmethod
    def for_model(cls, model: torch.nn.Module) -> CropConfig:
        return cls(model.input_size, tuple(model.heatmap_size), model.depth_bins, model.normalization)


class PoseDataset(Dataset):
    """Training (augmented) or test samples of one source, remapped to ``joint_set`` by joint name.

    Augmentation is drawn afresh on every read, from ``default_rng([seed, epoch, read])``: ``read`` is the
    position in the epoch the sample is read for (the dataset index, or the mixed index of
    :class:`~mhp.data.mix.MixedDataset`, which reads a sample of the shorter group several times an epoch).
    Reproducible, different every epoch (call :meth:`set_epoch`) and every repeat, and independent of worker
    count and rank. An image that cannot be read is replaced by the next readable one and reported in the sample
    (``failed``: its path, ``failures``: how many were skipped) so the training loop can count it;
    :class:`FailureMonitor` stops the run past 1 %.
    """

    def __init__(
        self,
        source: Source,
        joint_set: JointSet,
        crop: CropConfig,
        *,
        train: bool,
        augment: AugmentConfig | None = None,
        seed: int = 0,
        fast_decode: bool = False,
        max_consecutive_failures: int = 10,
    ) -> None:
        self.source, self.joint_set, self.crop, self.train = source, joint_set, crop, train
        self.augment = augment or AugmentConfig()
        self.seed, self.epoch = seed, 0
        self.fast_decode = fast_decode
        self.max_consecutive_failures = max_consecutive_failures
        self.flip_perm = source.joint_set.flip_permutation()

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return self.read(index, index)

    def read(self, index: int, read: int) -> dict[str, torch.Tensor]:
        """Sample ``index`` with the augmentation of read number ``read`` of the epoch (unreadable images are
        replaced by the next readable one)."""
        for attempt in range(self.max_consecutive_failures):
            sample = self.sample((index + attempt) % len(self.source), read)
            if sample is not None:
                sample["failed"] = self.source.record(index).image_path if attempt else ""
                sample["failures"] = torch.tensor(attempt)
                return sample
        raise DatasetError(
            f"{self.max_consecutive_failures} consecutive images could not be read, the first "
            f"{self.source.record(index).image_path}; check the dataset with mhp-data check"
        )

    def eval_pixels(self, i: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The evaluation crop of sample ``i`` as RGB uint8 ``(S, S, 3)`` and its affine, or None if unreadable.

        Exactly what :meth:`sample` feeds the network with ``train=False``, before normalisation: the pixels a
        deployed model receives (export calibration and parity use it).
        """
        record = self.source.record(i)
        affine = sample_crop_affine(record.bbox, record.width, NO_AUGMENTATION, self.crop.patch_size)
        reduce = decode_reduction(record.bbox, NO_AUGMENTATION, self.crop.patch_size) if self.fast_decode else 1
        image = self.source.load_image(i, reduce)
        if image is None:
            return None
        return np.ascontiguousarray(warp_patch(image, affine, self.crop.patch_size, reduce)[..., ::-1]), affine

    def sample(self, i: int, read: int | None = None) -> dict[str, torch.Tensor] | None:
        """Sample ``i`` as tensors (augmented as read number ``read``, default ``i``), or None if its image cannot
        be read."""
        record = self.source.record(i)
        rng = np.random.default_rng([self.seed, self.epoch, i if read is None else read])
        aug = NO_AUGMENTATION
        if self.train:
            aug = sample_augmentation(rng, self.augment, record.bbox, record.width, record.height)
        affine = sample_crop_affine(record.bbox, record.width, aug, self.crop.patch_size)
        reduce = decode_reduction(record.bbox, aug, self.crop.patch_size) if self.fast_decode else 1
        image = self.source.load_image(i, reduce)
        if image is None:
            return None
        if aug.occlusion is not None:
            occlude(image, aug.occlusion, rng, reduce)
        patch = warp_patch(image, affine, self.crop.patch_size, reduce)
        joints, vis = build_targets(
            record.joints_img,
            record.joints_vis,
            affine,
            flip_perm=self.flip_perm if aug.flip else None,
            heatmap_size=self.crop.heatmap_size,
            depth_bins=self.crop.depth_bins,
            patch_size=self.crop.patch_size,
        )
        src, dst = self.source.joint_set, self.joint_set
        joints = remap_joints(joints, src, dst)
        vis = remap_joints(vis[:, None], src, dst)
        return {
            "image": torch.from_numpy(to_network_input(patch, aug.color, self.crop.normalization)),
            "joints": torch.from_numpy(joints.astype(np.float32)),
            "vis": torch.from_numpy(vis.astype(np.float32)),
            "has_depth": torch.tensor([float(self.source.has_depth)]),
            "index": torch.tensor(i),
            "crop": torch.from_numpy(affine),
            "camera": torch.tensor([record.root_cam[2], *record.focal, *record.principal], dtype=torch.float64),
        }


class FailureMonitor:
    """Counts unreadable images reported by :class:`PoseDataset` batches; stops past ``max_fraction``.

    The fraction is taken over at least ``min_samples`` so one bad image early in a run does not stop it.
    """

    def __init__(self, max_fraction: float = 0.01, min_samples: int = 1000) -> None:
        self.max_fraction, self.min_samples = max_fraction, min_samples
        self.seen, self.failures, self.first_failed = 0, 0, ""

    def update(self, batch: dict[str, torch.Tensor]) -> None:
        self.seen += int(batch["index"].numel())
        count = int(batch["failures"].sum())
        if count and not self.first_failed:
            self.first_failed = next(path for path in batch["failed"] if path)
        self.failures += count
        if self.failures > self.max_fraction * max(self.seen + self.failures, self.min_samples):
            raise DatasetError(
                f"{self.failures} of {self.seen + self.failures} images could not be read (more than "
                f"{self.max_fraction:.0%}), e.g. {self.first_failed}; run mhp-data check on the dataset"
            )

    def summary(self) -> str:
        return f"{self.failures} unreadable images skipped" if self.failures else "all images read"
