import math

import numpy as np
import pytest
import torch

from mhp.data.body import axis_rotation
from mhp.errors import MhpError
from mhp.models.lift_geometry import lift_to_camera, normalize_2d, project, rotate_about_root, vertical_rotation
from mhp.skeleton import H36M

ROOT, HEAD = H36M.root, H36M.index("Head")


def random_2d(n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, H36M.num_joints, 2, generator=g, dtype=torch.float64) * 400 + 100


def test_normalisation_puts_the_root_at_zero_and_the_head_one_over_c_away():
    joints = random_2d(8)
    uv, scale = normalize_2d(joints, ROOT, HEAD, c=10.0)
    assert torch.all(uv[:, ROOT] == 0)
    torch.testing.assert_close(
        torch.linalg.vector_norm(uv[:, HEAD], dim=-1), torch.full((8,), 0.1, dtype=torch.float64)
    )
    torch.testing.assert_close(uv * scale[:, None, None] + joints[:, ROOT : ROOT + 1], joints)


def test_a_pose_with_its_head_on_its_root_is_a_clear_error():
    joints = random_2d(2)
    joints[1, HEAD] = joints[1, ROOT]
    with pytest.raises(MhpError, match="head on its root"):
        normalize_2d(joints, ROOT, HEAD)
    joints[1, HEAD, 0] = float("nan")
    with pytest.raises(MhpError, match="NaN"):
        normalize_2d(joints, ROOT, HEAD)


def test_lifting_at_any_depth_projects_back_onto_the_input():
    uv, _ = normalize_2d(random_2d(16), ROOT, HEAD)
    depth = torch.randn(16, H36M.num_joints, dtype=torch.float64)
    points = lift_to_camera(uv, depth, ROOT)
    torch.testing.assert_close(points[:, ROOT], torch.tensor([[0.0, 0.0, 10.0]], dtype=torch.float64).expand(16, 3))
    torch.testing.assert_close(project(points), uv)
    # depths are relative to the root's: adding a constant changes nothing
    torch.testing.assert_close(lift_to_camera(uv, depth + 3.0, ROOT), points)


def test_the_vertical_rotation_is_the_body_models_rotation_about_y():
    angles = torch.tensor([0.0, 0.3, -2.0, math.pi], dtype=torch.float64)
    expected = axis_rotation(1, np.degrees(angles.numpy()))
    np.testing.assert_allclose(vertical_rotation(angles).numpy(), expected, atol=1e-12)


def test_turning_keeps_the_root_and_every_distance_and_turning_back_undoes_it():
    uv, _ = normalize_2d(random_2d(6), ROOT, HEAD)
    points = lift_to_camera(uv, 0.5 * torch.randn(6, H36M.num_joints, dtype=torch.float64), ROOT)
    angle = torch.linspace(-math.pi, math.pi, 6, dtype=torch.float64)
    turned = rotate_about_root(points, angle, ROOT)
    torch.testing.assert_close(turned[:, ROOT], points[:, ROOT])
    torch.testing.assert_close(torch.cdist(turned, turned), torch.cdist(points, points))
    torch.testing.assert_close(turned[..., 1], points[..., 1])  # the vertical axis does not move
    torch.testing.assert_close(rotate_about_root(turned, -angle, ROOT), points)
    # a half turn of a flat pose (all joints at the root's depth) mirrors it left-right
    flat = lift_to_camera(uv, torch.zeros(6, H36M.num_joints, dtype=torch.float64), ROOT)
    half = project(rotate_about_root(flat, torch.full((6,), math.pi, dtype=torch.float64), ROOT))
    torch.testing.assert_close(half, uv * torch.tensor([-1.0, 1.0], dtype=torch.float64))


def test_the_cycle_closes_for_a_perfect_lifter():
    """Lift with the true depth, turn, project, lift the projection with its true depth, turn back: the start."""
    uv, _ = normalize_2d(random_2d(5), ROOT, HEAD)
    points = lift_to_camera(uv, 0.3 * torch.randn(5, H36M.num_joints, dtype=torch.float64), ROOT)
    angle = torch.tensor([0.1, 1.0, -1.5, 2.5, 3.0], dtype=torch.float64)
    turned = rotate_about_root(points, angle, ROOT)
    relifted = lift_to_camera(project(turned), turned[..., 2], ROOT)
    torch.testing.assert_close(relifted, turned)
    torch.testing.assert_close(project(rotate_about_root(relifted, -angle, ROOT)), uv)
