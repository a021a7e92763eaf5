import math

import torch
from torch import nn

from mhp.models.lift_geometry import lift_to_camera, normalize_2d, project, rotate_about_root
from mhp.models.lifter import LiftMLP, PoseCritic
from mhp.skeleton import H36M
from mhp.train.lift_losses import consistency_losses, critic_loss, critic_should_step, generator_loss, geometric_cycle

ROOT, HEAD = H36M.root, H36M.index("Head")


class OracleLifter(nn.Module):
    """Knows the true 3D pose of every 2D pose it can be asked about (the input and its turned projection)."""

    def __init__(self, points: torch.Tensor, angle: torch.Tensor) -> None:
        super().__init__()
        self.table = [(project(p), p[..., 2]) for p in (points, rotate_about_root(points, angle, ROOT))]

    def forward(self, uv: torch.Tensor) -> torch.Tensor:
        for known, depth in self.table:
            if torch.allclose(uv, known, atol=1e-5):
                return depth
        raise AssertionError("asked about a pose it was not given")


def poses(n: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    uv, _ = normalize_2d(torch.rand(n, H36M.num_joints, 2, generator=g) * 300, ROOT, HEAD)
    points = lift_to_camera(uv, 0.3 * torch.randn(n, H36M.num_joints, generator=g), ROOT)
    return uv, points


def test_a_perfect_lifter_has_zero_consistency_losses_and_a_wrong_one_does_not():
    uv, points = poses()
    angle = torch.tensor([0.5, -1.0, 2.0, math.pi / 2])
    losses = consistency_losses(geometric_cycle(OracleLifter(points, angle), uv, angle, ROOT), uv)
    assert losses["consistency_3d"] < 1e-9
    assert losses["reprojection_2d"] < 1e-9

    class Flat(nn.Module):
        def forward(self, uv):
            return torch.zeros(uv.shape[:2])

    flat = consistency_losses(geometric_cycle(Flat(), uv, angle, ROOT), uv)
    assert flat["consistency_3d"] > 1e-3
    assert flat["reprojection_2d"] > 1e-4
    # at angle 0 even the flat lifter closes the cycle: only turning exposes wrong depths
    zero = torch.zeros(4)
    assert consistency_losses(geometric_cycle(Flat(), uv, zero, ROOT), uv)["consistency_3d"] < 1e-12


def test_the_losses_train_a_real_lifter_through_every_step():
    uv, _ = poses(8)
    lifter, critic = LiftMLP(H36M.num_joints, width=32), PoseCritic(H36M.num_joints, width=32)
    cycle = geometric_cycle(lifter, uv, torch.full((8,), 0.7), ROOT)
    total = sum(consistency_losses(cycle, uv).values()) + generator_loss(critic, cycle.turned_2d)
    total.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in lifter.parameters())
    loss, accuracy = critic_loss(critic, uv, cycle.turned_2d)
    assert 0.0 <= accuracy <= 1.0
    loss.backward()
    assert all(p.grad is not None for p in critic.parameters())


def test_critic_accuracy_and_its_cap():
    class Fixed(nn.Module):
        def __init__(self, logits):
            super().__init__()
            self.queue = list(logits)

        def forward(self, x):
            return self.queue.pop(0)

    real, fake = torch.tensor([2.0, 1.0, -1.0, 3.0]), torch.tensor([-2.0, -1.0, 0.5, -0.1])
    _, accuracy = critic_loss(Fixed([real, fake]), torch.zeros(4, 2, 2), torch.zeros(4, 2, 2))
    assert accuracy == 6 / 8
    assert [critic_should_step(a) for a in (0.75, 0.899, 0.9, 1.0)] == [True, True, False, False]
    assert critic_should_step(0.95, cap=1.0)


def test_scale_equivariant_lifter_scales_depths_with_the_pose():
    from mhp.train.lift_losses import head_scale, renormalize, scale_equivariant

    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(36, 18))
    uv = torch.randn(3, 18, 2) * 0.05
    uv[:, 0] = 0
    uv = renormalize(uv, head=10)
    assert torch.allclose(head_scale(uv, 10), torch.ones(3))
    lift = scale_equivariant(net, head=10)
    torch.testing.assert_close(lift(uv), net(uv))  # normalised poses: the network as it is
    torch.testing.assert_close(lift(uv * 2.5), 2.5 * net(uv))  # a pose 2.5 times larger: 2.5 times the depths
