"""The geometry of 2D→3D lifting with geometric self-supervision (Chen et al., CVPR 2019).

Poses are batches of joints. A 2D pose is made root-relative and scaled so that its head sits ``1 / c`` from the
root (``normalize_2d``). The lifter adds a depth per joint; ``lift_to_camera`` places the lifted pose with its root
``c`` in front of a unit-focal camera (``X = u Z``, ``Y = v Z``), so the normalised 2D pose is exactly its
projection. ``rotate_about_root`` turns it about the vertical axis through the root and ``project`` gives the 2D
pose a camera would see from there: the training signal of the unsupervised lifter, and the consistency terms
(lift the projection again, turn it back) that make the cycle close.
"""

from __future__ import annotations

import torch

from mhp.errors import MhpError

ROOT_DISTANCE = 10.0  # c: the root's distance from the camera in normalised units (the paper's value)
MIN_DEPTH = 1.0  # lifted joints never come closer to the camera than this, so projection stays finite


def normalize_2d(
    joints: torch.Tensor, root: int, head: int, c: float = ROOT_DISTANCE
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(N, J, 2)`` pixels -> root-relative 2D with the head ``1 / c`` from the root, and the per-pose scale.

    ``normalized = (joints - joints[root]) / scale``; poses whose head sits on the root are an error.
    """
    centred = joints - joints[:, root : root + 1]
    scale = c * torch.linalg.vector_norm(centred[:, head], dim=-1)
    if not torch.isfinite(scale).all() or bool((scale <= 0).any()):
        raise MhpError("a 2D pose has its head on its root (or NaN coordinates); it cannot be normalised")
    return centred / scale[:, None, None], scale


def lift_to_camera(uv: torch.Tensor, depth: torch.Tensor, root: int, c: float = ROOT_DISTANCE) -> torch.Tensor:
    """Normalised 2D ``(N, J, 2)`` and depths ``(N, J)`` -> camera points ``(N, J, 3)``, root at ``(0, 0, c)``."""
    z = (c + depth - depth[:, root : root + 1]).clamp(min=MIN_DEPTH)
    return torch.cat([uv * z[..., None], z[..., None]], dim=-1)


def vertical_rotation(angle: torch.Tensor) -> torch.Tensor:
    """``(N,)`` angles in radians -> ``(N, 3, 3)`` rotations about the camera's vertical (y) axis."""
    cos, sin = torch.cos(angle), torch.sin(angle)
    zero, one = torch.zeros_like(angle), torch.ones_like(angle)
    rows = [torch.stack([cos, zero, sin], -1), torch.stack([zero, one, zero], -1), torch.stack([-sin, zero, cos], -1)]
    return torch.stack(rows, dim=-2)


def rotate_about_root(points: torch.Tensor, angle: torch.Tensor, root: int) -> torch.Tensor:
    """Turn ``(N, J, 3)`` camera points by ``angle`` about the vertical axis through each pose's root."""
    pivot = points[:, root : root + 1]
    return (points - pivot) @ vertical_rotation(angle).transpose(1, 2) + pivot


def project(points: torch.Tensor) -> torch.Tensor:
    """Unit-focal perspective projection ``(X / Z, Y / Z)`` of ``(N, J, 3)`` camera points."""
    return points[..., :2] / points[..., 2:].clamp(min=MIN_DEPTH)
