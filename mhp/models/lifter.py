"""2D→3D lifting networks: Martinez et al.'s residual MLP, as the lifter and as Chen et al.'s 2D pose critic."""

from __future__ import annotations

import torch
from torch import nn

from mhp.errors import MhpError

OUTPUTS = ("depth", "xyz")  # a depth per joint (Chen et al.) or the whole root-relative 3D pose (Martinez et al.)


class ResidualBlock(nn.Module):
    """Two (linear, batch norm, ReLU, dropout) layers with a skip connection around them."""

    def __init__(self, width: int, dropout: float) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for _ in range(2):
            layers += [nn.Linear(width, width), nn.BatchNorm1d(width), nn.ReLU(inplace=True), nn.Dropout(dropout)]
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.layers(x)


class ResidualMLP(nn.Module):
    """``in_features`` -> linear to ``width`` (+BN, ReLU, dropout) -> ``blocks`` residual blocks -> ``out_features``."""

    def __init__(self, in_features: int, out_features: int, *, width: int, blocks: int, dropout: float) -> None:
        super().__init__()
        if width < 1 or blocks < 0 or not 0.0 <= dropout < 1.0:
            raise MhpError(
                f"width ({width}) must be positive, blocks ({blocks}) at least 0, dropout ({dropout}) in [0, 1)"
            )
        self.stem = nn.Sequential(
            nn.Linear(in_features, width), nn.BatchNorm1d(width), nn.ReLU(inplace=True), nn.Dropout(dropout)
        )
        self.blocks = nn.Sequential(*(ResidualBlock(width, dropout) for _ in range(blocks)))
        self.out = nn.Linear(width, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.blocks(self.stem(x)))


class LiftMLP(nn.Module):
    """``(N, J, 2)`` normalised root-relative 2D joints -> ``(N, J)`` depths or ``(N, J, 3)`` root-relative 3D."""

    def __init__(
        self, num_joints: int, *, output: str = "depth", width: int = 1024, blocks: int = 2, dropout: float = 0.5
    ) -> None:
        super().__init__()
        if output not in OUTPUTS:
            raise MhpError(f"unknown lifter output {output!r}; choose {' or '.join(OUTPUTS)}")
        if num_joints < 2:
            raise MhpError(f"a lifter needs at least 2 joints, got {num_joints}")
        self.num_joints, self.output = num_joints, output
        per_joint = 1 if output == "depth" else 3
        self.mlp = ResidualMLP(2 * num_joints, per_joint * num_joints, width=width, blocks=blocks, dropout=dropout)

    def forward(self, joints_2d: torch.Tensor) -> torch.Tensor:
        if not torch.jit.is_tracing() and tuple(joints_2d.shape[1:]) != (self.num_joints, 2):
            raise MhpError(f"the lifter expects 2D joints (N, {self.num_joints}, 2), got {tuple(joints_2d.shape)}")
        out = self.mlp(joints_2d.flatten(1))
        return out if self.output == "depth" else out.view(-1, self.num_joints, 3)


class PoseCritic(nn.Module):
    """Chen et al.'s discriminator: ``(N, J, 2)`` normalised 2D poses -> ``(N,)`` logits (real > 0)."""

    def __init__(self, num_joints: int, *, width: int = 1024, blocks: int = 2, dropout: float = 0.0) -> None:
        super().__init__()
        self.mlp = ResidualMLP(2 * num_joints, 1, width=width, blocks=blocks, dropout=dropout)

    def forward(self, joints_2d: torch.Tensor) -> torch.Tensor:
        return self.mlp(joints_2d.flatten(1)).squeeze(1)
