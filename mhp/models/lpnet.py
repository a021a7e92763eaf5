"""The three LPNet backbones of MobileHumanPose (reference §2, §3): skip-concat, plain, residual-concat.

Each maps a normalised ``(N, 3, S, S)`` image to 3D-heatmap logits ``(N, J*D, S/stride, S/stride)``.
Attribute names (``first_conv``, ``inv_residual``, ``last_conv``, ``deconv0..2``, ``final_layer``) match the
original checkpoints.
"""

from __future__ import annotations

import torch
from torch import nn

from mhp.models.layers import ConvBNAct, DecoderBlock, InvertedResidual, Upsample2x, make_divisible

STEM_CHANNELS = 48
DECODER_CHANNELS = 256
# (expansion t, output channels c, repeats n) of the seven inverted-residual stages.
STAGES = ((1, 64, 1), (6, 48, 2), (6, 48, 3), (6, 64, 4), (6, 96, 3), (6, 160, 3), (6, 320, 1))
STAGE_STRIDES = {
    "ski": (2, 2, 2, 2, 2, 1, 1),
    "wo": (1, 2, 2, 2, 2, 2, 1),
    "res": (1, 2, 2, 2, 2, 2, 1),
}


def _stage_channels(width_mult: float) -> list[int]:
    return [make_divisible(c * width_mult) for _, c, _ in STAGES]


def _stage_blocks(
    stage_inputs: list[int], stage_outputs: list[int], strides: tuple[int, ...], activation: str
) -> nn.Sequential:
    """The 17 inverted-residual blocks; ``stage_inputs[k]`` feeds the first block of stage k."""
    blocks = []
    for (t, _, n), c_in, c_out, s in zip(STAGES, stage_inputs, stage_outputs, strides, strict=True):
        for i in range(n):
            blocks.append(InvertedResidual(c_in if i == 0 else c_out, c_out, s if i == 0 else 1, t, activation))
    return nn.Sequential(*blocks)


def _stage_ends() -> list[int]:
    """Index one past the last block of every stage: [1, 3, 6, 10, 13, 16, 17]."""
    ends, total = [], 0
    for _, _, n in STAGES:
        total += n
        ends.append(total)
    return ends


def build_encoder(
    net: nn.Module, stem_stride: int, strides: tuple[int, ...], width_mult: float, embedding_size: int, activation: str
) -> list[int]:
    """Give ``net`` the plain stem -> 17 blocks -> 1x1 embedding encoder; returns the stage widths."""
    stem = make_divisible(STEM_CHANNELS * width_mult)
    chans = _stage_channels(width_mult)
    net.first_conv = ConvBNAct(3, stem, stride=stem_stride, activation=activation)
    net.inv_residual = _stage_blocks([stem, *chans[:-1]], chans, strides, activation)
    net.last_conv = ConvBNAct(chans[-1], embedding_size, kernel_size=1, activation=activation)
    return chans


def init_lpnet_weights(net: nn.Module) -> None:
    """Original training init (reference §3.7): encoder and final convs N(0, 0.001) with zero bias; the decoder
    keeps PyTorch's default conv init; BN weight 1, bias 0; PReLU slopes 0.25 (set at construction)."""
    for part in (net.first_conv, net.inv_residual, net.last_conv, net.final_layer):
        for m in part.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, std=0.001)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)


class LPSkiConcat(nn.Module):
    """LPSKI: encoder with U-Net-like skips concatenated into the decoder (the default MobileHumanPose).

    ``stem_stride=2, depth_bins=32`` is the master-branch model (32x32x32 volume, output stride 8);
    ``stem_stride=1, depth_bins=64`` is the "large" branch (64x64x64, output stride 4).
    """

    def __init__(
        self,
        num_joints: int,
        depth_bins: int = 32,
        stem_stride: int = 2,
        width_mult: float = 1.0,
        embedding_size: int = 2048,
        activation: str = "prelu",
    ) -> None:
        super().__init__()
        chans = build_encoder(self, stem_stride, STAGE_STRIDES["ski"], width_mult, embedding_size, activation)
        # Skips leave after stages 3, 4 and 5 and re-enter the decoder deepest first.
        ends = _stage_ends()
        self.skip_after = (ends[2] - 1, ends[3] - 1, ends[4] - 1)
        skip_a, skip_b, skip_c = chans[2], chans[3], chans[4]
        self.deconv0 = DecoderBlock(skip_c + embedding_size, skip_c, DECODER_CHANNELS, activation)
        self.deconv1 = DecoderBlock(skip_b + DECODER_CHANNELS, skip_b, DECODER_CHANNELS, activation)
        self.deconv2 = DecoderBlock(skip_a + DECODER_CHANNELS, skip_a, DECODER_CHANNELS, activation)
        self.final_layer = nn.Conv2d(DECODER_CHANNELS, num_joints * depth_bins, 1)
        self.output_stride = stem_stride * 2**5 // 2**3
        init_lpnet_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.first_conv(x)
        skips = []
        for i, block in enumerate(self.inv_residual):
            x = block(x)
            if i in self.skip_after:
                skips.append(x)
        z = self.last_conv(x)
        z = self.deconv0.forward_concat([skips[2], z])
        z = self.deconv1.forward_concat([skips[1], z])
        z = self.deconv2.forward_concat([skips[0], z])
        return self.final_layer(z)


class LPWoConcat(nn.Module):
    """LPWO: the same encoder with no skip connections, stem stride 1 (64x64x64 volume)."""

    def __init__(
        self,
        num_joints: int,
        depth_bins: int = 64,
        width_mult: float = 1.0,
        embedding_size: int = 2048,
        activation: str = "prelu",
    ) -> None:
        super().__init__()
        chans = build_encoder(self, 1, STAGE_STRIDES["wo"], width_mult, embedding_size, activation)
        self.deconv0 = DecoderBlock(embedding_size, chans[5], DECODER_CHANNELS, activation)
        self.deconv1 = DecoderBlock(DECODER_CHANNELS, chans[4], DECODER_CHANNELS, activation)
        self.deconv2 = DecoderBlock(DECODER_CHANNELS, chans[3], DECODER_CHANNELS, activation)
        self.final_layer = nn.Conv2d(DECODER_CHANNELS, num_joints * depth_bins, 1)
        self.output_stride = 4
        init_lpnet_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.last_conv(self.inv_residual(self.first_conv(x)))
        return self.final_layer(self.deconv2(self.deconv1(self.deconv0(x))))


class LPResConcat(nn.Module):
    """LPRES: every stage reads the concatenation of the two previous feature maps (the older one
    average-pooled to the newer one's size); the decoder does the same with bilinear upsampling.

    The original hard-codes the concatenated channel counts for width 1.0 / embedding 2048; here they are
    computed, so other widths work too (and width 1.0 gives the original shapes exactly).
    """

    def __init__(
        self,
        num_joints: int,
        depth_bins: int = 64,
        width_mult: float = 1.0,
        embedding_size: int = 2048,
        activation: str = "prelu",
    ) -> None:
        super().__init__()
        stem = make_divisible(STEM_CHANNELS * width_mult)
        chans = _stage_channels(width_mult)
        # Feature maps in order: stem, then one per stage; stage k reads features k-1 and k.
        feats = [stem, *chans]
        self.first_conv = ConvBNAct(3, stem, stride=1, activation=activation)
        stage_inputs = [stem] + [feats[k - 1] + feats[k] for k in range(1, len(STAGES))]
        self.inv_residual = _stage_blocks(stage_inputs, chans, STAGE_STRIDES["res"], activation)
        self.stage_ends = _stage_ends()
        # The older input is pooled when the stage before it downsampled.
        strides = STAGE_STRIDES["res"]
        self.pool_older = [False] + [strides[k - 1] == 2 for k in range(1, len(STAGES))] + [strides[-1] == 2]
        self.last_conv = ConvBNAct(chans[-2] + chans[-1], embedding_size, kernel_size=1, activation=activation)
        d = DECODER_CHANNELS
        self.deconv0 = DecoderBlock(chans[-1] + embedding_size, d, d, activation)
        self.deconv1 = DecoderBlock(embedding_size + d, d, d, activation)
        self.deconv2 = DecoderBlock(d + d, d, d, activation)
        self.final_layer = nn.Conv2d(d, num_joints * depth_bins, 1)
        self.avgpool = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.upsample = Upsample2x()
        self.output_stride = 4
        init_lpnet_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        older = self.first_conv(x)
        newer = self.inv_residual[0](older)
        start = self.stage_ends[0]
        for k, end in enumerate(self.stage_ends[1:], start=1):
            if self.pool_older[k]:
                older = self.avgpool(older)
            x = torch.cat([older, newer], dim=1)
            for block in self.inv_residual[start:end]:
                x = block(x)
            older, newer, start = newer, x, end
        if self.pool_older[-1]:
            older = self.avgpool(older)
        embedding = self.last_conv(torch.cat([older, newer], dim=1))
        d0 = self.deconv0.forward_concat([newer, embedding])
        d1 = self.deconv1.forward_concat([self.upsample(embedding), d0])
        d2 = self.deconv2.forward_concat([self.upsample(d0), d1])
        return self.final_layer(d2)
