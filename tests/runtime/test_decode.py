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


@pytest.mark.parametrize(("dtype", "zero_point"), [(np.int8, -9), (np.uint8, 131)])
def test_quantised_heatmaps_decode_like_their_dequantised_values(dtype, zero_point):
    """TFLite's int8 and ONNX Runtime's uint8 heatmaps (weights looked up by byte value) against their float logits
    decoded with an exp per value."""
    rng = np.random.default_rng(3)
    info = np.iinfo(dtype)
    quantised = rng.integers(info.min, info.max + 1, (2, 5, 6, 3 * 4)).astype(dtype)
    scale = 0.17
    dequantised = (quantised.astype(np.float32) - zero_point) * np.float32(scale)
    coords, conf = soft_argmax_nhwc(quantised, 3, 4, scale=scale, zero_point=zero_point)
    expected_coords, expected_conf = float64_soft_argmax(dequantised, 3, 4)
    np.testing.assert_allclose(coords, expected_coords, atol=1e-5)
    np.testing.assert_allclose(conf, expected_conf, rtol=1e-5)
    float_coords, float_conf = soft_argmax_nhwc(dequantised, 3, 4)
    np.testing.assert_allclose(coords, float_coords, atol=1e-5)
    np.testing.assert_allclose(conf, float_conf, rtol=1e-5)


def test_a_sharp_peak_decodes_to_its_voxel():
    heat = np.full((1, 4, 4, 2 * 3), -50.0, np.float32)
    heat[0, 1, 3, 1 * 3 + 2] = 50.0  # joint 1 at y=1, x=3, z=2
    coords, conf = soft_argmax_nhwc(heat, 2, 3)
    np.testing.assert_allclose(coords[0, 1], [3, 1, 2], atol=1e-4)
    assert conf[0, 1] == pytest.approx(1.0, abs=1e-4)


def float64_soft_argmax(logits: np.ndarray, joints: int, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """An independent reference: the per-joint softmax written out in float64 over an (N, J, H, W, D) volume."""
    n, h, w, _ = logits.shape
    volume = logits.astype(np.float64).reshape(n, h, w, joints, depth).transpose(0, 3, 1, 2, 4)
    volume = np.exp(volume - volume.max(axis=(2, 3, 4), keepdims=True))
    volume /= volume.sum(axis=(2, 3, 4), keepdims=True)
    x = (volume.sum(axis=(2, 4)) * np.arange(w)).sum(axis=2)
    y = (volume.sum(axis=(3, 4)) * np.arange(h)).sum(axis=2)
    z = (volume.sum(axis=(2, 3)) * np.arange(depth)).sum(axis=2)
    return np.stack([x, y, z], axis=2), volume.max(axis=(2, 3, 4))


@pytest.mark.parametrize("scale", [0.05, 0.4, 1.5])  # 1.5: logits past exp's float32 range, decoded with a shift
def test_full_size_int8_heatmaps_match_a_float64_softmax(scale):
    """32x32 pixels x 18 joints x 32 bins: several cache-sized chunks, the last one partial."""
    rng = np.random.default_rng(7)
    quantised = rng.integers(-128, 100, (2, 32, 32, 18 * 32), dtype=np.int64).astype(np.int8)
    quantised[0, 3, 29, 5 * 32 + 7] = 127  # a sharp peak for joint 5
    coords, conf = soft_argmax_nhwc(quantised, 18, 32, scale=scale)
    expected_coords, expected_conf = float64_soft_argmax(quantised * scale, 18, 32)
    np.testing.assert_allclose(coords, expected_coords, atol=2e-4)
    np.testing.assert_allclose(conf, expected_conf, rtol=1e-4)
    as_uint8 = (quantised.astype(np.int16) + 128).astype(np.uint8)  # ONNX Runtime's type, zero point 128
    coords, conf = soft_argmax_nhwc(as_uint8, 18, 32, scale=scale, zero_point=128)
    np.testing.assert_allclose(coords, expected_coords, atol=2e-4)
    np.testing.assert_allclose(conf, expected_conf, rtol=1e-4)


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
