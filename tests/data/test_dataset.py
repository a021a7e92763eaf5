"""PoseDataset: targets land where the image content is, through every augmentation."""

import colorsys
import shutil

import cv2
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from mhp.data import read_dataset
from mhp.data.annotations import Record
from mhp.data.dataset import CropConfig, FailureMonitor, PoseDataset
from mhp.data.io import DatasetError
from mhp.data.mix import MixedDataset, SkipSampler, make_sampler
from mhp.data.render import render_silhouette
from mhp.data.synthetic import SyntheticHumans
from mhp.data.transforms import AugmentConfig, sample_augmentation
from mhp.skeleton import H36M, MPII, MUCO

CROP = CropConfig(patch_size=256, heatmap_size=(32, 32), depth_bins=32)
NO_COLOUR_NO_OCCLUSION = AugmentConfig(color_factor=0.0, occlusion_prob=0.0)


class DotSource:
    """Images with one coloured dot per joint, at the annotated positions."""

    joint_set, has_depth = H36M, True
    size = (640, 480)

    def __init__(self, n=12, seed=0):
        rng = np.random.default_rng(seed)
        self.colours = [tuple(int(255 * c) for c in colorsys.hsv_to_rgb(j / 18, 1.0, 1.0)) for j in range(18)]
        self.points = []
        for _ in range(n):
            pts = []
            while len(pts) < 18:  # keep dots 30 px apart so their colours never blend
                p = rng.uniform([220, 120], [420, 360])
                if all(np.hypot(*(p - q)) > 30 for q in pts):
                    pts.append(p)
            self.points.append(np.array(pts))

    def __len__(self):
        return len(self.points)

    def record(self, i):
        joints = np.concatenate([self.points[i], np.zeros((18, 1))], axis=1)
        return Record(
            "",
            i,
            *self.size,
            np.zeros(4),
            np.array([170.0, 90.0, 300.0, 300.0]),
            joints,
            np.zeros((18, 3)),
            np.ones(18),
            np.zeros(3),
            np.ones(2),
            np.zeros(2),
            "",
            0,
            1.0,
        )

    def load_image(self, i, reduce=1):
        image = np.zeros((self.size[1], self.size[0], 3), np.uint8)
        for p, colour in zip(self.points[i], self.colours, strict=True):
            cv2.circle(image, tuple(round(v * 16) for v in p), 4 * 16, colour[::-1], -1, cv2.LINE_AA, shift=4)
        return image


def dot_centre(patch_rgb, colour):
    distance = np.abs(patch_rgb.astype(int) - np.array(colour)).sum(axis=2)
    ys, xs = np.nonzero(distance < 40)
    return None if len(xs) < 5 else np.array([xs.mean(), ys.mean()])


def patch_rgb(sample):
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    return (sample["image"].numpy().transpose(1, 2, 0) * std + mean).clip(0, 255)


def test_targets_land_on_the_dots_through_scale_rotation_and_flip():
    source = DotSource()
    dataset = PoseDataset(source, H36M, CROP, train=True, augment=NO_COLOUR_NO_OCCLUSION, seed=3)
    flips, errors = 0, []
    for epoch in range(3):
        dataset.set_epoch(epoch)
        for i in range(len(source)):
            sample = dataset[i]
            rng = np.random.default_rng([3, epoch, i])
            aug = sample_augmentation(rng, NO_COLOUR_NO_OCCLUSION, source.record(i).bbox, *source.size)
            flips += aug.flip
            perm = H36M.flip_permutation() if aug.flip else np.arange(18)
            rgb = patch_rgb(sample)
            for j in range(18):
                if sample["vis"][j, 0] == 0:
                    continue
                found = dot_centre(rgb, source.colours[perm[j]])  # after a flip, L_x sits on the old R_x dot
                if found is not None:
                    errors.append(np.hypot(*(sample["joints"][j, :2].numpy() * 8 - found)))
    assert 0 < flips < 3 * len(source)
    assert len(errors) > 400
    assert np.max(errors) < 1.0
    assert np.mean(errors) < 0.3


def test_joints_land_on_the_rendered_bodies():
    """The check behind mhp-data show: synthetic targets fall on the body silhouette in every crop."""
    source = SyntheticHumans(24, seed=5)
    dataset = PoseDataset(source, H36M, CROP, train=True, seed=1)
    hits, total = 0, 0
    for i in range(len(source)):
        sample = dataset[i]
        focal, principal, person = source.scene(i)
        mask = render_silhouette(source.image_size, focal, principal, [(person.joints_cam, person.appearance)])
        crop = sample["crop"].numpy()
        patch_mask = cv2.warpAffine(mask.astype(np.uint8), crop, (256, 256), flags=cv2.INTER_NEAREST)
        patch_mask = cv2.dilate(patch_mask, np.ones((3, 3), np.uint8))
        for j in np.flatnonzero(sample["vis"][:, 0].numpy() > 0):
            x, y = np.floor(sample["joints"][j, :2].numpy() * 8).astype(int)
            hits += bool(patch_mask[y, x])
            total += 1
    assert total > 300
    assert hits / total > 0.97


def test_remapping_to_the_model_joint_set(synthetic_folders):
    root, _ = synthetic_folders["mpii"]
    dataset = PoseDataset(read_dataset("mpii", root, "train"), H36M, CROP, train=False)
    sample = dataset[0]
    assert sample["joints"].shape == (18, 3)
    assert sample["vis"].shape == (18, 1)
    assert sample["vis"][H36M.index("Torso"), 0] == 0
    assert sample["vis"][H36M.index("Nose"), 0] == 0
    assert sample["has_depth"].item() == 0.0
    assert torch.allclose(sample["joints"][H36M.index("Thorax"), 2], torch.tensor(16.0))  # 2D: z at the root plane
    muco = PoseDataset(read_dataset("muco", synthetic_folders["muco"][0], "train"), MUCO, CROP, train=True)
    assert muco[0]["joints"].shape == (21, 3)
    assert muco[0]["has_depth"].item() == 1.0


def test_augmentation_is_reproducible_and_changes_with_the_epoch():
    source = SyntheticHumans(4, seed=2)
    a = PoseDataset(source, H36M, CROP, train=True, seed=9)
    b = PoseDataset(source, H36M, CROP, train=True, seed=9)
    assert torch.equal(a[1]["image"], b[1]["image"])
    assert torch.equal(a[1]["joints"], b[1]["joints"])
    b.set_epoch(1)
    assert not torch.equal(a[1]["joints"], b[1]["joints"])
    test = PoseDataset(source, H36M, CROP, train=False)
    assert torch.equal(test[1]["image"], test[1]["image"])


def test_reduced_decoding_keeps_targets_identical(synthetic_folders):
    root, _ = synthetic_folders["h36m"]
    annotations = read_dataset("h36m", root, "test")
    small_crop = CropConfig(patch_size=64, heatmap_size=(8, 8), depth_bins=8)  # makes 1/2 and 1/4 decoding apply
    no_occlusion = AugmentConfig(occlusion_prob=0.0)  # its noise is drawn at the decoded resolution
    full = PoseDataset(annotations, H36M, small_crop, train=True, augment=no_occlusion, fast_decode=False)
    reduced = PoseDataset(annotations, H36M, small_crop, train=True, augment=no_occlusion, fast_decode=True)
    for i in range(6):
        f, r = full[i], reduced[i]
        assert torch.equal(f["joints"], r["joints"])
        assert torch.equal(f["vis"], r["vis"])
        assert np.corrcoef(f["image"].numpy().ravel(), r["image"].numpy().ravel())[0, 1] > 0.9


def test_unreadable_images_are_replaced_counted_and_stop_the_run(synthetic_folders, tmp_path):
    root, _ = synthetic_folders["mpii"]
    shutil.copytree(root, tmp_path / "m")
    annotations = read_dataset("mpii", tmp_path / "m", "train")
    broken = annotations.image_path(2)
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    affected = [i for i in range(len(annotations)) if annotations.image_path(i) == broken]  # people of that image
    dataset = PoseDataset(annotations, H36M, CROP, train=True)
    sample = dataset[affected[0]]
    assert sample["failed"] == str(broken)
    assert sample["failures"].item() == len(affected) - affected.index(affected[0])
    assert annotations.image_path(sample["index"].item()) != broken
    fine = next(i for i in range(len(annotations)) if annotations.image_path(i) != broken)
    assert dataset[fine]["failed"] == ""

    monitor = FailureMonitor(max_fraction=0.01, min_samples=10)
    loader = DataLoader(dataset, batch_size=4, num_workers=0)

    def run_epoch():
        for batch in loader:
            monitor.update(batch)

    with pytest.raises(DatasetError, match=r"could not be read \(more than 1%\), e\.g\. .*\.jpg"):
        run_epoch()
    lenient = FailureMonitor(max_fraction=0.5, min_samples=100)
    for batch in loader:
        lenient.update(batch)
    assert lenient.summary() == f"{len(affected) * (len(affected) + 1) // 2} unreadable images skipped"


def test_consecutive_failures_give_a_clear_error(tmp_path, synthetic_folders):
    root, _ = synthetic_folders["mupots"]
    shutil.copytree(root, tmp_path / "m")
    annotations = read_dataset("mupots", tmp_path / "m", "test")
    for i in range(len(annotations)):
        annotations.image_path(i).unlink(missing_ok=True)
    with pytest.raises(DatasetError, match="10 consecutive images could not be read"):
        PoseDataset(annotations, MUCO, CROP, train=False)[0]


def test_mixed_3d_and_2d_batches_through_worker_processes(synthetic_folders):
    h36m = PoseDataset(read_dataset("h36m", synthetic_folders["h36m"][0], "train"), H36M, CROP, train=True)
    mpii = PoseDataset(read_dataset("mpii", synthetic_folders["mpii"][0], "train"), H36M, CROP, train=True)
    mixed = MixedDataset([h36m], [mpii])
    loader = DataLoader(mixed, batch_size=len(mixed) // 2, num_workers=2, shuffle=False)
    batches = list(loader)
    assert [b["has_depth"].mean().item() for b in batches] == [1.0, 0.0]  # first half 3D, second half 2D
    assert batches[0]["image"].shape == (len(mixed) // 2, 3, 256, 256)
    assert MPII.num_joints == 16
    assert batches[1]["joints"].shape[1] == 18


def test_eval_pixels_are_what_the_network_sees_before_normalisation():
    from mhp.data.dataset import CropConfig, PoseDataset
    from mhp.data.synthetic import SyntheticHumans
    from mhp.data.transforms import to_network_input

    source = SyntheticHumans(3, seed=5, image_size=(160, 160))
    dataset = PoseDataset(source, source.joint_set, CropConfig(patch_size=64, heatmap_size=(8, 8)), train=False)
    for i in range(3):
        rgb, affine = dataset.eval_pixels(i)
        sample = dataset.sample(i)
        assert rgb.dtype == np.uint8
        assert rgb.shape == (64, 64, 3)
        np.testing.assert_array_equal(affine, sample["crop"].numpy())
        np.testing.assert_allclose(to_network_input(rgb[..., ::-1], (1, 1, 1), "legacy"), sample["image"].numpy())


def test_full_resolution_decoding_is_the_default():
    """The original decodes every frame whole; --fast-decode (training and mhp-eval) is the explicit speed option."""
    import inspect

    from mhp.config import EvalConfig, TrainConfig

    assert inspect.signature(PoseDataset).parameters["fast_decode"].default is False
    assert TrainConfig().fast_decode is False
    assert EvalConfig(checkpoint="x.pt").fast_decode is False


def test_every_read_of_a_sample_is_augmented_afresh_and_reproducibly():
    def mixed():
        sets_3d = [PoseDataset(SyntheticHumans(6, seed=2), H36M, CROP, train=True, seed=9)]
        sets_2d = [PoseDataset(SyntheticHumans(2, seed=3), H36M, CROP, train=True, seed=9)]  # read 3x an epoch
        return MixedDataset(sets_3d, sets_2d, seed=9)

    data = mixed()
    reads = [i for i in range(len(data)) if data.locate(i) == (1, 0)]
    assert len(reads) == 3
    first, second = data[reads[0]], data[reads[1]]
    assert int(first["index"]) == int(second["index"]) == 0  # the same 2D sample ...
    assert not torch.equal(first["joints"], second["joints"])  # ... cropped differently on each read
    assert not torch.equal(first["image"], second["image"])
    # a resumed run (a fresh dataset, the epoch's order skipped to where it stopped) reads the same sequence
    order = list(make_sampler(data, shuffle=True, seed=9))
    again = mixed()
    resumed = list(SkipSampler(make_sampler(again, shuffle=True, seed=9), 4))
    assert resumed == order[4:]
    for i in resumed[:3]:
        assert torch.equal(again[i]["image"], data[i]["image"])
        assert torch.equal(again[i]["joints"], data[i]["joints"])
