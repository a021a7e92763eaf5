"""Soft-argmax (reference §5): test vectors, stability, dtype and export-friendliness."""

import pytest
import torch

from mhp.errors import MhpError
from mhp.models.head import SoftArgmax3D

J, D, H, W = 2, 32, 32, 32


def one_hot_logits(peaks, margin=1e4):
    logits = torch.zeros(1, J * D, H, W)
    for j, (d, h, w) in enumerate(peaks):
        logits[0, j * D + d, h, w] = margin
    return logits


def test_one_hot_volume_gives_its_index():
    head = SoftArgmax3D(J, D, H, W)
    coords = head(one_hot_logits([(5, 10, 20), (31, 0, 7)]))
    assert torch.equal(coords[0, 0], torch.tensor([20.0, 10.0, 5.0]))  # (x, y, z) = (w, h, d)
    assert torch.equal(coords[0, 1], torch.tensor([7.0, 0.0, 31.0]))


def test_constant_volume_gives_the_centre():
    head = SoftArgmax3D(J, 64, 64, 48)
    coords = head(torch.full((3, J * 64, 64, 48), 7.0))
    expected = torch.tensor([(48 - 1) / 2, (64 - 1) / 2, (64 - 1) / 2])
    assert torch.allclose(coords, expected.expand(3, J, 3), atol=1e-4)


@pytest.mark.parametrize("magnitude", [1e4, -1e4])
def test_extreme_logits_are_finite(magnitude):
    head = SoftArgmax3D(J, D, H, W)
    logits = torch.randn(2, J * D, H, W, generator=torch.Generator().manual_seed(0)) * magnitude
    coords = head(logits)
    assert torch.isfinite(coords).all()
    assert (coords >= 0).all()
    assert (coords[..., :2] <= W - 1).all()
    assert (coords[..., 2] <= D - 1).all()
    # the arg-max voxel of every joint wins outright at this scale
    flat = logits.reshape(2, J, -1).argmax(dim=2)
    d, rem = flat // (H * W), flat % (H * W)
    expected = torch.stack([rem % W, rem // W, d], dim=2).float()
    assert torch.allclose(coords, expected, atol=1e-3)


def test_half_precision_logits_are_integrated_in_float32():
    head = SoftArgmax3D(J, D, H, W)
    logits = torch.randn(2, J * D, H, W) * 20
    out = head(logits.to(torch.bfloat16))
    assert out.dtype == torch.float32
    assert torch.allclose(out, head(logits.to(torch.bfloat16).float()))


def test_marginal_expectation_matches_direct_sum():
    head = SoftArgmax3D(J, 8, 6, 5)
    logits = torch.randn(4, J * 8, 6, 5, dtype=torch.float64)
    p = torch.softmax(logits.reshape(4, J, -1), dim=2).reshape(4, J, 8, 6, 5)
    d, h, w = torch.meshgrid(torch.arange(8.0), torch.arange(6.0), torch.arange(5.0), indexing="ij")
    direct = torch.stack([(p * w).sum((2, 3, 4)), (p * h).sum((2, 3, 4)), (p * d).sum((2, 3, 4))], dim=2)
    assert torch.allclose(head(logits).double(), direct, atol=1e-6)


def test_wrong_shape_is_refused_not_reshaped():
    head = SoftArgmax3D(18, 32, 32, 32)
    with pytest.raises(MhpError, match=r"expects logits \(N, 576, 32, 32\)"):
        head(torch.zeros(1, 18 * 64, 64, 64))  # the original silently gave (8, 18, 3) here


def test_index_buffers_are_not_in_the_state_dict():
    assert SoftArgmax3D(J, D, H, W).state_dict() == {}


def test_head_exports_with_static_shapes():
    head = SoftArgmax3D(J, D, H, W)
    exported = torch.export.export(head, (torch.randn(1, J * D, H, W),))
    x = one_hot_logits([(1, 2, 3), (4, 5, 6)])
    assert torch.equal(exported.module()(x), head(x))
