"""Building blocks of the LPNet backbones (reference §2).

Blocks subclass ``nn.Sequential`` so their parameter names are the ones the original checkpoints use
(``conv.0.0.weight`` and so on, reference §14); loading author weights is then a prefix change.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mhp.config.commands import ACTIVATIONS
from mhp.errors import MhpError


def make_activation(name: str, channels: int) -> nn.Module:
    """``prelu`` (one learnable slope per channel, init 0.25: the original) or the ``relu``/``relu6``
    deployment variants that INT8 mobile delegates run natively."""
    if name == "prelu":
        return nn.PReLU(num_parameters=channels, init=0.25)
    if name == "relu":
        return nn.ReLU(inplace=True)
    if name == "relu6":
        return nn.ReLU6(inplace=True)
    raise MhpError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round a channel count to the nearest multiple of ``divisor`` without losing more than 10 %."""
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


class ConvBNAct(nn.Sequential):
    """Conv (no bias) -> BatchNorm -> activation."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        groups: int = 1,
        activation: str = "prelu",
    ) -> None:
        super().__init__(
            nn.Conv2d(
                in_channels,
                out_channels,
                kernel_size,
                stride,
                padding=(kernel_size - 1) // 2,
                groups=groups,
                bias=False,
            ),
            nn.BatchNorm2d(out_channels),
            make_activation(activation, out_channels),
        )


class InvertedResidual(nn.Module):
    """MobileNetV2 block: optional 1x1 expansion, 3x3 depthwise, linear 1x1 projection, residual add."""

    def __init__(
        self, in_channels: int, out_channels: int, stride: int, expansion: int, activation: str = "prelu"
    ) -> None:
        super().__init__()
        hidden = round(in_channels * expansion)
        layers: list[nn.Module] = []
        if expansion != 1:
            layers.append(ConvBNAct(in_channels, hidden, kernel_size=1, activation=activation))
        layers += [
            ConvBNAct(hidden, hidden, stride=stride, groups=hidden, activation=activation),
            nn.Conv2d(hidden, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
        ]
        self.conv = nn.Sequential(*layers)
        self.use_residual = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_residual else self.conv(x)


class Upsample2x(nn.Module):
    """Bilinear x2 with ``align_corners=True``, as ``nn.UpsamplingBilinear2d`` in the original (reference Q10)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=True)


def conv1x1_concat(conv: nn.Conv2d, parts: list[torch.Tensor]) -> torch.Tensor:
    """``conv(torch.cat(parts, 1))`` for a 1x1 ``conv``, computed as a sum of convolutions over weight slices.

    Identical maths, but no concatenated tensor: converters such as onnx2tf otherwise run the concatenation
    in NCHW and wrap it in TRANSPOSE ops, and training saves the copy.
    """
    out, start = None, 0
    for k, part in enumerate(parts):
        width = part.shape[1]
        bias = conv.bias if k == len(parts) - 1 else None
        term = F.conv2d(part, conv.weight[:, start : start + width], bias)
        out = term if out is None else out + term
        start += width
    return out


class DecoderBlock(nn.Sequential):
    """1x1 conv -> BN -> act -> 3x3 conv -> BN -> act -> bilinear x2 (the original "DeConv"; no transposed conv).

    The convs carry biases although BN follows: they are part of the original state dict (reference Q9).
    """

    def __init__(self, in_channels: int, mid_channels: int, out_channels: int = 256, activation: str = "prelu") -> None:
        super().__init__(
            nn.Conv2d(in_channels, mid_channels, 1, bias=True),
            nn.BatchNorm2d(mid_channels),
            make_activation(activation, mid_channels),
            nn.Conv2d(mid_channels, out_channels, 3, padding=1, bias=True),
            nn.BatchNorm2d(out_channels),
            make_activation(activation, out_channels),
            Upsample2x(),
        )

    def forward_concat(self, parts: list[torch.Tensor]) -> torch.Tensor:
        """The block applied to the channel concatenation of ``parts``, without building it."""
        x = conv1x1_concat(self[0], parts)
        for layer in list(self)[1:]:
            x = layer(x)
        return x
