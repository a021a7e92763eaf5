"""The exported computation: 0-255 RGB pixels in, normalisation inside, coordinates or heatmaps out."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from mhp.geometry import NORMALIZATIONS
from mhp.models.layers import ConvBNAct
from mhp.models.pose_model import IntegralPoseModel

OUTPUTS = ("coords", "heatmaps", "heatmaps_nhwc")
STEMS = ("model", "outside", "blocks")


class ExportModule(nn.Module):
    """``pixels (N, 3, S, S)`` -> ``(coords (N, J, 3), confidence (N, J))`` or heatmap logits.

    ``outputs="heatmaps"`` gives ``(N, J*D, H, W)``, ``"heatmaps_nhwc"`` ``(N, H, W, J*D)`` (channel ``j*D + d``
    last, the layout a host decoder reads). ``centered=True`` expects pixels already scaled and mean-subtracted (a
    CoreML ``ImageType`` does that with its scale and bias), so only the per-channel division by the ImageNet std
    stays in the graph. ``stem`` says how the first convolution is computed: ``"model"`` as trained, after the
    normalisation; ``"outside"``: not at all, the input is that layer's output, which TFLite's graph computes from
    the pixels with the normalisation folded in (:class:`FoldedStem`); ``"blocks"``: folded and over 2x2 pixel
    blocks (:class:`BlockStem`), for ONNX Runtime's INT8 kernels.
    """

    def __init__(
        self, model: IntegralPoseModel, *, outputs: str = "coords", centered: bool = False, stem: str = "model"
    ) -> None:
        super().__init__()
        if outputs not in OUTPUTS:
            raise ValueError(f"outputs must be one of {OUTPUTS}")
        if stem not in STEMS:
            raise ValueError(f"stem must be one of {STEMS}")
        size = model.input_size
        self.input_shape = (3, size, size)
        self.stem = BlockStem(FoldedStem.of(model)) if stem == "blocks" else None
        if stem != "model":
            model = copy.deepcopy(model).eval()  # the caller's model keeps its stem and its mode
            if stem == "outside":
                with torch.no_grad():
                    self.input_shape = tuple(model.backbone.first_conv(torch.zeros(1, 3, size, size)).shape[1:])
            model.backbone.first_conv = nn.Identity()
        self.model, self.outputs, self.centered, self.after_stem = model, outputs, centered, stem == "outside"
        integral = model.integral
        self.head = VoxelGridSoftArgmax(integral.num_joints, integral.depth_bins, integral.height, integral.width)
        # (pixel * scale - mean) / std as one multiply-add: in full-INT8 TFLite a SUB of the mean is left outside
        # XNNPACK, while MUL and ADD are delegated.
        std, mean = model.pixel_std.clone(), model.pixel_mean.clone()
        gain = 1.0 / std if centered else NORMALIZATIONS[model.normalization] / std
        self.register_buffer("gain", gain, persistent=False)
        self.register_buffer("offset", torch.zeros_like(mean) if centered else -mean / std, persistent=False)
        self.eval()  # exporters restore the wrapper's mode afterwards: it must be eval, or BatchNorm trains

    def example_input(self) -> torch.Tensor:
        """A batch of one input of the traced shape: mid-grey pixels, or zero stem features."""
        return torch.full((1, *self.input_shape), 0.0 if self.after_stem else 128.0)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        if self.stem is not None:
            images = self.stem(pixels)
        else:
            images = pixels if self.after_stem else pixels * self.gain + self.offset
        logits = self.model.forward_heatmaps(images)
        if self.outputs == "heatmaps":
            return logits
        if self.outputs == "heatmaps_nhwc":
            return logits.permute(0, 2, 3, 1)
        return self.head(logits)


class VoxelGridSoftArgmax(nn.Module):
    """:class:`~mhp.models.head.SoftArgmax3D` as one graph op where it had six: after the per-joint softmax, one
    matrix product with a ``(D*H*W, 3)`` table of every voxel's (x, y, z) gives the expected coordinates (ONNX
    Runtime, full size: 0.35 ms for the product, 0.48 ms for the six axis sums); the confidence is the largest
    probability, as there."""

    def __init__(self, num_joints: int, depth_bins: int, height: int, width: int) -> None:
        super().__init__()
        z, y, x = torch.meshgrid(
            torch.arange(depth_bins), torch.arange(height), torch.arange(width), indexing="ij"
        )  # voxel v = (z * H + y) * W + x, the order of the logits' channel j*D + z, then H, then W
        self.register_buffer("grid", torch.stack([x, y, z], dim=-1).reshape(-1, 3).float(), persistent=False)
        self.num_joints = num_joints

    def forward(self, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        probs = F.softmax(logits.float().reshape(logits.shape[0], self.num_joints, -1), dim=2)
        return probs @ self.grid, probs.amax(dim=2)


@dataclass(frozen=True)
class StemArrays:
    """A :class:`FoldedStem` as NHWC numpy arrays, for graphs built outside torch (TensorFlow's)."""

    weight: np.ndarray  # (kh, kw, 3, C)
    bias: np.ndarray  # (C,)
    pad_value: np.ndarray  # (3,) the pixel that normalises to zero, per channel
    stride: int
    padding: int
    activation: str  # relu, relu6 or prelu
    slope: np.ndarray | None  # PReLU's negative slope per channel


class FoldedStem(nn.Module):
    """A ``ConvBNAct`` that reads raw pixels: ``act(bn(conv(pad0(gain * x + offset))))`` as one convolution.

    The BatchNorm and the per-channel ``gain`` go into the weights and ``offset`` into the bias. Zero padding
    of the normalised image is padding of the pixels with the value that normalises to zero, ``-offset /
    gain`` per channel (the ImageNet mean in pixels), so the pixels are padded with that instead. Exact in real
    arithmetic; a full-INT8 graph rounds the pad value to a whole pixel, as it holds the pixels.
    """

    def __init__(self, stem: ConvBNAct, gain: torch.Tensor, offset: torch.Tensor) -> None:
        super().__init__()
        conv, bn, act = stem
        with torch.no_grad():
            bn_scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            weight = conv.weight * bn_scale[:, None, None, None]
            bias = bn.bias - bn.running_mean * bn_scale + (weight * offset.view(1, -1, 1, 1)).sum(dim=(1, 2, 3))
        self.register_buffer("weight", weight * gain.view(1, -1, 1, 1))
        self.register_buffer("bias", bias)
        self.register_buffer("pad_value", (-offset / gain).view(1, -1, 1, 1))
        self.stride, self.padding, self.act = conv.stride[0], conv.padding[0], act

    @classmethod
    def of(cls, model: IntegralPoseModel) -> FoldedStem:
        """The first convolution of ``model`` with its pixel normalisation folded in."""
        gain = NORMALIZATIONS[model.normalization] / model.pixel_std.flatten()
        offset = -(model.pixel_mean / model.pixel_std).flatten()
        return cls(model.backbone.first_conv, gain, offset)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        pad = (self.padding,) * 4
        padded = F.pad(pixels - self.pad_value, pad) + self.pad_value
        return self.act(F.conv2d(padded, self.weight, self.bias, self.stride))

    def arrays(self) -> StemArrays:
        act = self.act
        names = {nn.ReLU: "relu", nn.ReLU6: "relu6", nn.PReLU: "prelu"}
        if type(act) not in names:
            raise ValueError(f"no folded stem for activation {type(act).__name__}")
        slope = act.weight.detach().numpy().copy() if isinstance(act, nn.PReLU) else None
        return StemArrays(
            weight=self.weight.permute(2, 3, 1, 0).numpy().copy(),
            bias=self.bias.numpy().copy(),
            pad_value=self.pad_value.flatten().numpy().copy(),
            stride=self.stride,
            padding=self.padding,
            activation=names[type(act)],
            slope=slope,
        )


class SpaceToDepth(torch.autograd.Function):
    """ONNX's ``SpaceToDepth`` with blocks of 2x2: ``(N, C, H, W)`` -> ``(N, 4C, H/2, W/2)``, channel
    ``(p*2 + q)*C + c`` for the pixel at row parity p and column parity q; exported as that one op (ONNX Runtime,
    256 px: 0.06 ms, where ``pixel_unshuffle``'s six-axis Transpose takes 0.52)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        return x.reshape(n, c, h // 2, 2, w // 2, 2).permute(0, 3, 5, 1, 2, 4).reshape(n, 4 * c, h // 2, w // 2)

    @staticmethod
    def symbolic(g, x):
        return g.op("SpaceToDepth", x, blocksize_i=2)


class BlockStem(nn.Module):
    """A stride-2 :class:`FoldedStem` as a stride-1 convolution over 2x2 pixel blocks (space-to-depth).

    ONNX Runtime's INT8 convolution runs a 3-channel input poorly (full-size LPSKI: 0.67 ms for the first layer,
    0.31 ms in float32); over ``(12, S/2, S/2)`` blocks the same layer is a KxK convolution, K = 2 for 3x3, at
    0.27 ms. The pixels are centred on the pad value first, so the blocks' zero padding is the original padding;
    the kernel gets a zero row and column in front when the padding is odd, then is split by pixel parity. Exact
    in real arithmetic.
    """

    def __init__(self, folded: FoldedStem) -> None:
        super().__init__()
        out_channels, channels, k, _ = folded.weight.shape
        if folded.stride != 2 or k != 2 * folded.padding + 1:
            raise ValueError(f"no block stem for a {k}x{k} stride-{folded.stride} first convolution")
        front = folded.padding % 2  # a zero row/column in front makes the padding even: whole blocks
        before, blocks = (folded.padding + front) // 2, (k + front + 1) // 2
        kernel = folded.weight.new_zeros(out_channels, channels, 2 * blocks, 2 * blocks)
        kernel[:, :, front : front + k, front : front + k] = folded.weight
        # block (bi, bj) and pixel parity (p, q) -> input channel (p*2 + q)*C + c, SpaceToDepth's order
        kernel = kernel.reshape(out_channels, channels, blocks, 2, blocks, 2).permute(0, 3, 5, 1, 2, 4)
        self.register_buffer("weight", kernel.reshape(out_channels, channels * 4, blocks, blocks).contiguous())
        # the pixels are centred on the pad value: the bias takes what that value contributed
        self.register_buffer("bias", folded.bias + (folded.weight * folded.pad_value).sum(dim=(1, 2, 3)))
        self.register_buffer("pad_value", folded.pad_value.clone())
        self.pads = (before, blocks - 1 - before) * 2  # left, right, top, bottom
        self.act = folded.act

    @staticmethod
    def fits(model: IntegralPoseModel) -> bool:
        """Whether ``model`` starts with a "same"-padded stride-2 ``ConvBNAct`` (the LPNet stems at stride 2)."""
        stem = getattr(model.backbone, "first_conv", None)
        if not isinstance(stem, ConvBNAct):
            return False
        conv = stem[0]
        return conv.stride == (2, 2) and conv.kernel_size[0] == 2 * conv.padding[0] + 1

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        blocks = SpaceToDepth.apply(pixels - self.pad_value)
        return self.act(F.conv2d(F.pad(blocks, self.pads), self.weight, self.bias))


def image_type_scale_bias(model: IntegralPoseModel) -> tuple[float, list[float]]:
    """CoreML ``ImageType`` scale and per-channel bias that feed :class:`ExportModule` with ``centered=True``."""
    return NORMALIZATIONS[model.normalization], [-float(m) for m in model.pixel_mean.flatten()]
