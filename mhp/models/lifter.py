"""2D→3D lifting: Martinez et al.'s residual MLP, as the lifter and as Chen et al.'s 2D pose critic, and
:class:`LiftingModel`, the registry's ``LIFT_MLP``: pixel 2D joints in, root-relative 3D joints in mm out."""

from __future__ import annotations

import torch
from torch import nn

from mhp.errors import MhpError
from mhp.models.lift_geometry import ROOT_DISTANCE, lift_to_camera, normalize_2d
from mhp.skeleton import JointSet

HEAD_JOINTS = ("Head", "Nose")  # the first a joint set has scales its 2D poses (Chen et al. use the head)
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
        # Start from the zero-depth (or all-at-root) pose: random initial depths of about a body's size made
        # the unsupervised lifter's N-MPJPE 258 mm after 4 epochs on synthetic people, this start 154 mm.
        nn.init.zeros_(self.mlp.out.weight)
        nn.init.zeros_(self.mlp.out.bias)

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


def head_joint(joint_set: JointSet) -> int:
    """The joint whose distance from the root scales a 2D pose: ``Head``, else ``Nose``."""
    for name in HEAD_JOINTS:
        if name in joint_set.joints:
            return joint_set.joints.index(name)
    raise MhpError(f"the {joint_set.name} set has no {' or '.join(HEAD_JOINTS)} joint to normalise 2D poses by")


class LiftingModel(nn.Module):
    """``forward(uv)``: ``(N, J, 2)`` normalised 2D joints -> ``(N, J, 3)`` root-relative 3D joints in mm.

    ``uv`` is :meth:`normalize` of pixel joints: root-relative, head ``1 / c`` from the root. A ``depth`` lifter
    (Chen et al., trainable without 3D labels) predicts a depth per joint; the pose is rebuilt in front of a
    unit-focal camera (``X = u Z``) in units of about one root-head distance, and ``unit_mm`` turns it into mm.
    An ``xyz`` lifter (Martinez et al.) predicts the root-relative pose itself, in units of ``unit_mm``.
    """

    def __init__(
        self,
        net: LiftMLP,
        *,
        joint_set: JointSet,
        unit_mm: float,
        root_distance: float = ROOT_DISTANCE,
    ) -> None:
        super().__init__()
        if not unit_mm > 0:
            raise MhpError(f"unit_mm must be positive, got {unit_mm}")
        self.net, self.joint_set = net, joint_set
        self.num_joints, self.output = net.num_joints, net.output
        self.root, self.head = joint_set.root, head_joint(joint_set)
        self.root_distance, self.unit_mm = float(root_distance), float(unit_mm)
        # Filled in by ``create_model``: how to build this model again (saved in mhp checkpoints).
        self.model_name = ""
        self.model_kwargs: dict = {}

    def normalize(self, joints_px: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(N, J, 2)`` pixel joints -> the network input and each pose's pixel scale."""
        return normalize_2d(joints_px, self.root, self.head, self.root_distance)

    def forward_units(self, uv: torch.Tensor) -> torch.Tensor:
        """The root-relative pose in the network's own units (camera units for ``depth``, ``unit_mm`` for ``xyz``)."""
        out = self.net(uv)
        if self.output == "xyz":
            return out - out[:, self.root : self.root + 1]
        lifted = lift_to_camera(uv, out, self.root, self.root_distance)
        return lifted - lifted[:, self.root : self.root + 1]

    def forward(self, uv: torch.Tensor) -> torch.Tensor:
        return self.forward_units(uv) * self.unit_mm

    def lift(self, joints_px: torch.Tensor) -> torch.Tensor:
        """``(N, J, 2)`` pixel joints -> ``(N, J, 3)`` root-relative mm."""
        return self(self.normalize(joints_px)[0])
