"""The host soft-argmax (for heatmap artifacts) against the model's own head."""

import numpy as np
import pytest
import torch

from mhp.errors import MhpError
from mhp.models.head import SoftArgmax3D
from mhp.runtime.base import check_pixels
from mhp.runtime.decode import soft_argmax_nhwc


def test_nhwc_decode_matches_the_torch_head():
    joints, depth, height, width = 3, 4, 5, 6
    logits = torch.randn(2, joints * depth, height, width, generator=torch.Generator().manual_seed(0)) * 4
    coords, confidence = SoftArgmax3D(joints, depth, height, width).forward_with_confidence(logits)
    nhwc = logits.permute(0, 2, 3, 1).numpy()  # what TFLite emits: channel j*D + d last
    ours, conf = soft_argmax_nhwc(nhwc, joints, depth)
    np.testing.assert_allclose(ours, coords.numpy(), atol=1e-5)
    np.testing.assert_allclose(conf, confidence.numpy(), atol=1e-6)
    assert ((conf > 0) & (conf <= 1)).all()


def test_quantised_heatmaps_decode_like_their_dequantised_values():
    rng = np.random.default_rng(3)
    quantised = rng.integers(-128, 128, (2, 5, 6, 3 * 4), dtype=np.int64).astype(np.int8)
    scale, zero_point = 0.17, -9
    dequantised = (quantised.astype(np.float32) - zero_point) * np.float32(scale)
    coords, conf = soft_argmax_nhwc(quantised, 3, 4, scale=scale)
    expected_coords, expected_conf = soft_argmax_nhwc(dequantised, 3, 4)
    np.testing.assert_allclose(coords, expected_coords, atol=1e-5)
    np.testing.assert_allclose(conf, expected_conf, rtol=1e-5)


def test_a_sharp_peak_decodes_to_its_voxel():
    heat = np.full((1, 4, 4, 2 * 3), -50.0, np.float32)
    heat[0, 1, 3, 1 * 3 + 2] = 50.0  # joint 1 at y=1, x=3, z=2
    coords, conf = soft_argmax_nhwc(heat, 2, 3)
    np.testing.assert_allclose(coords[0, 1], [3, 1, 2], atol=1e-4)
    assert conf[0, 1] == pytest.approx(1.0, abs=1e-4)


def test_wrong_channel_count_is_named():
    with pytest.raises(MhpError, match="4 joints x 3 depth bins"):
        soft_argmax_nhwc(np.zeros((1, 2, 2, 10), np.float32), 4, 3)


@pytest.mark.parametrize(
    ("pixels", "message"),
    [
        (np.zeros((1, 8, 8, 3)), r"expected RGB crops \(N, 3, 8, 8\)"),
        (np.full((1, 3, 8, 8), 300.0), "0-255"),
        (np.full((1, 3, 8, 8), np.nan), "0-255"),
    ],
)
def test_runner_input_is_checked(pixels, message):
    with pytest.raises(MhpError, match=message):
        check_pixels(pixels, 8)
