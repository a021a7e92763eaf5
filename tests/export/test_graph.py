"""The exported computation: the first convolution with the pixel normalisation folded in is the same function,
in torch and as TensorFlow builds it for TFLite, and the graph after it continues from that layer's output."""

from dataclasses import replace

import numpy as np
import pytest
import torch

import mhp
from mhp.export.graph import BlockStem, ExportModule, FoldedStem
from mhp.models.pose_model import IntegralPoseModel


def trained_like(name: str, **kwargs) -> IntegralPoseModel:
    """A random model in eval mode whose BatchNorms hold random affine terms and statistics measured on noise
    crops (a fold of identity BNs would hide a wrong BN formula; with the default statistics a random network's
    activations shrink to zero by the decoder, so its heatmaps would not depend on the input at all)."""
    torch.manual_seed(0)
    model = mhp.create_model(name, **kwargs)
    for layer in model.modules():
        if isinstance(layer, torch.nn.BatchNorm2d):
            layer.weight.data.uniform_(0.5, 1.5)
            layer.bias.data.uniform_(-0.5, 0.5)
            layer.reset_running_stats()
            layer.momentum = None  # a plain average over the batches below
    size, noise = model.input_size, torch.Generator().manual_seed(5)
    with torch.no_grad():
        for _ in range(2):
            model.train()(model.normalize(torch.rand(4, 3, size, size, generator=noise) * 255))
    return model.eval()


CASES = [  # stride 2 (the unused bottom/right pad), stride 1 (every border), ReLU6, the 0-1 normalisation
    ("LPSKI", {"width_mult": 0.5, "input_size": 64}),
    ("LPRES", {"width_mult": 0.5, "input_size": 32}),
    ("LPWO", {"width_mult": 0.5, "input_size": 32, "activation": "relu6"}),
    ("LPSKI", {"width_mult": 0.5, "input_size": 64, "activation": "relu", "normalization": "unit"}),
]


@pytest.mark.parametrize(("name", "kwargs"), CASES)
def test_the_folded_stem_is_the_normalised_first_convolution(name, kwargs):
    model = trained_like(name, **kwargs)
    pixels = torch.rand(2, 3, model.input_size, model.input_size, generator=torch.Generator().manual_seed(1)) * 255
    pixels[:, :, 0, :] = 0.0  # black and white borders: the padding's value matters most there
    pixels[:, :, :, -1] = 255.0
    with torch.no_grad():
        expected = model.backbone.first_conv(model.normalize(pixels))
        folded = FoldedStem.of(model)(pixels)
    assert folded.shape == expected.shape
    torch.testing.assert_close(folded, expected, rtol=0, atol=2e-5 * float(expected.abs().max()))
    # the border is where a plain zero-padded fold would be wrong: check it is not trivially right
    zero_padded = torch.nn.functional.conv2d(pixels, FoldedStem.of(model).weight, FoldedStem.of(model).bias, 2, 1)
    if model.backbone.first_conv[0].stride == (2, 2):
        assert (zero_padded[:, :, 0] - expected[:, :, 0]).abs().max() > 0.1


@pytest.mark.parametrize(("name", "kwargs"), CASES[:3])
def test_tensorflow_builds_the_same_stem(name, kwargs):
    tf = pytest.importorskip("tensorflow")
    from mhp.export.tflite import tf_stem

    model = trained_like(name, **kwargs)
    pixels = torch.rand(1, 3, model.input_size, model.input_size, generator=torch.Generator().manual_seed(2)) * 255
    with torch.no_grad():
        expected = model.backbone.first_conv(model.normalize(pixels)).permute(0, 2, 3, 1).numpy()
    built = tf_stem(tf, FoldedStem.of(model).arrays(), tf.constant(pixels.permute(0, 2, 3, 1).numpy())).numpy()
    np.testing.assert_allclose(built, expected, rtol=0, atol=2e-5 * float(np.abs(expected).max()))


def test_the_graph_after_the_stem_continues_from_its_output():
    model = trained_like("LPSKI", width_mult=0.5, input_size=64)
    after = ExportModule(model, outputs="heatmaps", stem="outside")
    whole = ExportModule(model, outputs="heatmaps")
    pixels = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(3)) * 255
    assert after.example_input().shape == (1, 24, 32, 32)  # the stem's output: stride 2, 48 x 0.5 channels
    with torch.no_grad():
        expected = whole(pixels)
        assert (expected[0] - expected[1]).abs().max() > 0.1 * expected.abs().max()  # the input matters
        torch.testing.assert_close(after(FoldedStem.of(model)(pixels)), expected, rtol=1e-4, atol=1e-5)
    assert model.backbone.first_conv is not None  # the caller's model keeps its stem


@pytest.mark.parametrize(("name", "kwargs"), [CASES[0], CASES[3]])
def test_the_block_stem_is_the_same_function(name, kwargs):
    """Space-to-depth: the 3x3 stride-2 stem as a 2x2 convolution over 2x2 pixel blocks, with the padding of the
    original at the top and left borders (where a misplaced kernel row or channel order shows first)."""
    model = trained_like(name, **kwargs)
    pixels = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(6)) * 255
    pixels[:, :, 0, :] = 0.0
    pixels[:, :, :, 0] = 255.0
    stem = BlockStem(FoldedStem.of(model))
    assert stem.weight.shape[1:] == (12, 2, 2)
    with torch.no_grad():
        expected = model.backbone.first_conv(model.normalize(pixels))
        torch.testing.assert_close(stem(pixels), expected, rtol=0, atol=2e-5 * float(expected.abs().max()))
        whole = ExportModule(model, outputs="heatmaps")(pixels)
        blocks = ExportModule(model, outputs="heatmaps_nhwc", stem="blocks")(pixels)
    torch.testing.assert_close(blocks, whole.permute(0, 2, 3, 1), rtol=1e-4, atol=1e-4 * float(whole.abs().max()))


def test_a_stem_without_stride_2_gets_no_block_stem():
    name, kwargs = CASES[1]
    model = trained_like(name, **kwargs)  # LPRES: a stride-1 first convolution
    assert not BlockStem.fits(model)
    with pytest.raises(ValueError, match="stride-1"):
        ExportModule(model, stem="blocks")


def test_an_unknown_activation_is_refused():
    model = trained_like("LPSKI", width_mult=0.5, input_size=64)
    model.backbone.first_conv[2] = torch.nn.Hardswish()
    with pytest.raises(ValueError, match="Hardswish"):
        FoldedStem.of(model).arrays()


def test_the_voxel_grid_head_is_the_model_s_soft_argmax():
    from mhp.export.graph import VoxelGridSoftArgmax
    from mhp.models.head import SoftArgmax3D

    joints, depth, height, width = 3, 5, 6, 7  # every axis a different length: a swapped axis moves the result
    logits = torch.randn(2, joints * depth, height, width, generator=torch.Generator().manual_seed(4)) * 4
    coords, confidence = SoftArgmax3D(joints, depth, height, width).forward_with_confidence(logits)
    grid_coords, grid_confidence = VoxelGridSoftArgmax(joints, depth, height, width)(logits)
    torch.testing.assert_close(grid_coords, coords, rtol=0, atol=1e-5)
    torch.testing.assert_close(grid_confidence, confidence)


@pytest.mark.slow
def test_a_prelu_model_converts_without_transposes(tmp_path):
    """The paper's PReLU activation: onnx2tf keeps it channel-last (folding the decoder's BatchNorm into the split
    1x1 convolutions once made it wrap three PReLUs per decoder block in TRANSPOSE ops: 9 in all)."""
    from mhp.config import ExportConfig
    from mhp.export.pipeline import export_checkpoint

    checkpoint = tmp_path / "prelu.pt"
    mhp.save_checkpoint(checkpoint, trained_like("LPSKI", width_mult=0.25, input_size=64), config={})
    config = ExportConfig(checkpoint=str(checkpoint), target="tflite", precision=("fp32",), out=str(tmp_path / "out"))
    (result,) = export_checkpoint(replace(config, no_check=True), log=lambda _: None)
    assert result["graph"]["transpose_ops"] == 0
    assert result["graph"]["xnnpack_partitions"] == 1
