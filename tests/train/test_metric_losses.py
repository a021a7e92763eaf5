"""The bone losses measure millimetres: each 3D sample in its own camera, each 2D sample at the scale of its
ground-truth 2D joints. On ground-truth targets both are near zero, where the 2 m-crop approximation was not."""

import numpy as np
import pytest
import torch

from mhp.data.dataset import CropConfig, PoseDataset
from mhp.data.synthetic import SyntheticHumans
from mhp.data.transforms import AugmentConfig
from mhp.limbs import limb_prior
from mhp.skeleton import H36M
from mhp.train.data import training_poses
from mhp.train.loss import BoneRatioLoss, LimbPriorLoss, canonical_bone_lengths, known_camera, voxels_to_camera_mm

CROP = CropConfig(patch_size=256, heatmap_size=(32, 32), depth_bins=32)
PEOPLE = 200


@pytest.fixture(scope="module")
def truth():
    """Ground-truth targets of augmented crops (scale, rotation, flips) of synthetic people, with their 3D joints."""
    source = SyntheticHumans(PEOPLE, seed=5, image_size=(384, 384))
    augment = AugmentConfig(flip_prob=0.5, occlusion_prob=0.0)
    dataset = PoseDataset(source, H36M, CROP, train=True, augment=augment, seed=1)
    items = [dataset.sample(i) for i in range(PEOPLE)]
    batch = {k: torch.stack([item[k] for item in items]) for k in ("joints", "vis", "crop", "camera")}
    batch["joints_cam"] = torch.tensor(np.stack([source.record(i).joints_cam for i in range(PEOPLE)]))
    poses = training_poses([SyntheticHumans(1000, seed=0, image_size=(384, 384))], H36M)
    return batch, poses


def test_ground_truth_voxels_go_back_to_the_camera_exactly(truth):
    batch, _ = truth
    camera, known = known_camera(batch["camera"])
    assert torch.all(known == 1)
    mm = voxels_to_camera_mm(batch["joints"].float(), batch["crop"], camera, CROP)
    flipped = batch["joints_cam"][:, H36M.flip_permutation()]  # a flipped crop labels the mirrored joints
    error = torch.minimum((mm - batch["joints_cam"]).norm(dim=-1).amax(dim=1), (mm - flipped).norm(dim=-1).amax(dim=1))
    assert error.max().item() < 0.01  # mm, through scale, rotation and flip


def test_the_limb_loss_is_near_zero_on_ground_truth(truth):
    batch, poses = truth
    loss = LimbPriorLoss(H36M, limb_prior(poses.numpy(), H36M))
    camera, known = known_camera(batch["camera"])
    mm = voxels_to_camera_mm(batch["joints"].float(), batch["crop"], camera, CROP)
    vis = batch["vis"].float()
    assert loss(mm, vis, known).item() < 0.01  # measured 0.003: only the prior's own tails
    two_metre_crop = batch["joints"].float() * (2000.0 / 32)  # the former approximation
    assert loss(two_metre_crop, vis).item() > 0.1  # measured 0.64 on these augmented crops


def test_the_geometric_loss_is_near_its_weak_perspective_floor_on_ground_truth(truth):
    batch, poses = truth
    loss = BoneRatioLoss(H36M, canonical_bone_lengths(poses, H36M.num_joints))
    vis = batch["vis"].float()
    skeleton, has_scale = loss.skeleton_mm(batch["joints"].float(), batch["joints"].float(), vis, CROP)
    assert torch.all(has_scale == 1)
    ours = loss(skeleton, vis, has_scale).item()
    # the exact scale of each crop (root depth / focal, over the crop's zoom) with the same 2D-plus-depth skeleton
    zoom = torch.linalg.det(batch["crop"][:, :, :2]).abs().sqrt()
    exact = (batch["camera"][:, 0] / batch["camera"][:, 1] / zoom).float()
    xy = batch["joints"][..., :2].float() * (CROP.patch_size / 32)
    z = (batch["joints"][..., 2].float() / 32 * 2 - 1) * 1000
    weak = torch.cat([xy * exact[:, None, None], z[..., None]], dim=-1)
    floor = loss(weak, vis, torch.ones(PEOPLE)).item()
    assert ours < 1.1 * floor  # measured 0.0045 vs 0.0046: the scale estimate costs nothing
    assert ours < 0.006
    two_metre_crop = batch["joints"].float() * (2000.0 / 32)
    assert loss(two_metre_crop, vis, torch.ones(PEOPLE)).item() > 1.5 * ours  # measured 0.011


def test_a_2d_sample_without_two_visible_joints_has_no_scale():
    loss = BoneRatioLoss(H36M, torch.full((18, 18), 300.0))
    target = torch.rand(2, 18, 3) * 32
    vis = torch.ones(2, 18, 1)
    vis[1] = 0
    skeleton, has_scale = loss.skeleton_mm(target, target, vis, CROP)
    assert has_scale.tolist() == [1.0, 0.0]
    assert torch.isfinite(skeleton).all()


def test_samples_without_a_camera_add_no_nan_to_the_gradients():
    prior = limb_prior(np.random.default_rng(0).normal(size=(8, 18, 3)) * 300, H36M)
    pred = (torch.rand(2, 18, 3) * 32).requires_grad_()
    camera = torch.tensor([[5000.0, 1100.0, 1100.0, 500.0, 500.0], [0.0, 0.0, 0.0, 0.0, 0.0]])  # an MPII sample
    affine = torch.tensor([[[0.5, 0.0, -10.0], [0.0, 0.5, -20.0]]] * 2)
    camera, known = known_camera(camera)
    mm = voxels_to_camera_mm(pred, affine, camera, CROP)
    LimbPriorLoss(H36M, prior)(mm, torch.ones(2, 18, 1), known).backward()
    assert torch.isfinite(pred.grad).all()
    assert torch.all(pred.grad[1] == 0)
