"""Losses of the unsupervised lifter (Chen et al., CVPR 2019): the geometric cycle and the 2D pose critic."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from mhp.models.lift_geometry import ROOT_DISTANCE, lift_to_camera, project, rotate_about_root

CRITIC_ACCURACY_CAP = 0.9  # the critic is not updated on a batch it already judges this well (the reproduction's)


def head_scale(uv: torch.Tensor, head: int, c: float = ROOT_DISTANCE) -> torch.Tensor:
    """``(N,)`` factor by which root-relative 2D poses exceed the normalised size (head ``1 / c`` from the root)."""
    return c * torch.linalg.vector_norm(uv[:, head], dim=-1).clamp(min=1e-6)


def renormalize(uv: torch.Tensor, head: int, c: float = ROOT_DISTANCE) -> torch.Tensor:
    """Root-relative 2D poses brought back to the normalised size: what real inputs look like."""
    return uv / head_scale(uv, head, c)[:, None, None]


def scale_equivariant(net: Callable[[torch.Tensor], torch.Tensor], head: int, c: float = ROOT_DISTANCE):
    """A depth lifter for 2D poses of any size: ``s * net(uv / s)``. A turned pose projects larger or smaller
    than the normalised size; a person ``s`` times larger also has ``s`` times the depth offsets."""

    def lift(uv: torch.Tensor) -> torch.Tensor:
        scale = head_scale(uv, head, c)
        return net(uv / scale[:, None, None]) * scale[:, None]

    return lift


@dataclass(frozen=True)
class Cycle:
    """Every pose of one pass: lifted, turned and projected, lifted again and turned back."""

    lifted: torch.Tensor  # (N, J, 3) the input lifted, root at (0, 0, c)
    turned: torch.Tensor  # (N, J, 3) lifted, turned by the random angle
    turned_2d: torch.Tensor  # (N, J, 2) its projection: what the critic judges
    relifted: torch.Tensor  # (N, J, 3) the projection lifted again
    returned_2d: torch.Tensor  # (N, J, 2) the re-lifted pose turned back and projected


def geometric_cycle(
    lifter: nn.Module, uv: torch.Tensor, angle: torch.Tensor, root: int, c: float = ROOT_DISTANCE
) -> Cycle:
    """Lift ``uv``, turn it by ``angle`` about the vertical axis, project, lift again and turn back."""
    lifted = lift_to_camera(uv, lifter(uv), root, c)
    turned = rotate_about_root(lifted, angle, root)
    turned_2d = project(turned)
    relifted = lift_to_camera(turned_2d, lifter(turned_2d), root, c)
    returned_2d = project(rotate_about_root(relifted, -angle, root))
    return Cycle(lifted, turned, turned_2d, relifted, returned_2d)


def consistency_losses(cycle: Cycle, uv: torch.Tensor) -> dict[str, torch.Tensor]:
    """``consistency_3d``: the re-lifted pose against the turned one; ``reprojection_2d``: the cycle's 2D closure."""
    return {
        "consistency_3d": (cycle.relifted - cycle.turned).square().sum(-1).mean(),
        "reprojection_2d": (cycle.returned_2d - uv).square().sum(-1).mean(),
    }


def generator_loss(critic: nn.Module, fake_2d: torch.Tensor) -> torch.Tensor:
    """The lifter wants the critic to call its projections real."""
    logits = critic(fake_2d)
    return F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))


def critic_loss(critic: nn.Module, real_2d: torch.Tensor, fake_2d: torch.Tensor) -> tuple[torch.Tensor, float]:
    """The critic's loss on real and (detached) projected poses, and its accuracy on them."""
    real, fake = critic(real_2d), critic(fake_2d.detach())
    loss = F.binary_cross_entropy_with_logits(real, torch.ones_like(real)) + F.binary_cross_entropy_with_logits(
        fake, torch.zeros_like(fake)
    )
    correct = (real > 0).sum() + (fake <= 0).sum()
    return loss, float(correct) / (len(real) + len(fake))


def critic_should_step(accuracy: float, cap: float = CRITIC_ACCURACY_CAP) -> bool:
    """Update the critic only while it is below the cap, so the lifter keeps a useful gradient."""
    return accuracy < cap
