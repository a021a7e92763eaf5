"""The 3DMPPE PoseNet baseline (reference §4): ResNet-50 and three transposed-conv upsamplers.

Written without torchvision; parameter names follow torchvision's ResNet so its ImageNet checkpoints load.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from mhp.errors import CheckpointError
from mhp.models.state import load_state_strict

RESNET50_LAYERS = (3, 4, 6, 3)


class Bottleneck(nn.Module):
    """1x1 -> 3x3 (carries the stride) -> 1x1 with 4x expansion, ReLU, projection shortcut when needed."""

    expansion = 4

    def __init__(self, in_channels: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        out_channels = planes * self.expansion
        self.conv1 = nn.Conv2d(in_channels, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNetBackbone(nn.Module):
    """ResNet-50 without pooling head and fc: ``(N, 3, 256, 256) -> (N, 2048, 8, 8)``."""

    def __init__(self, layers: tuple[int, ...] = RESNET50_LAYERS) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        in_channels = 64
        for i, (planes, blocks) in enumerate(zip((64, 128, 256, 512), layers, strict=True), start=1):
            stride = 1 if i == 1 else 2
            stage = [Bottleneck(in_channels, planes, stride)]
            in_channels = planes * Bottleneck.expansion
            stage += [Bottleneck(in_channels, planes) for _ in range(blocks - 1)]
            setattr(self, f"layer{i}", nn.Sequential(*stage))
        self.out_channels = in_channels
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, std=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))

    def load_imagenet(self, path: str | Path) -> None:
        """Load a torchvision-format ResNet-50 ImageNet state dict (its ``fc.*`` is dropped)."""
        path = Path(path)
        if not path.is_file():
            raise CheckpointError(f"ImageNet checkpoint {path} not found; pass the path of a torchvision resnet50 .pth")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise CheckpointError(f"{path} is not a readable PyTorch file ({type(exc).__name__})") from None
        if isinstance(state, dict) and "state_dict" in state:
            state = state["state_dict"]
        if not isinstance(state, dict):
            raise CheckpointError(f"{path} does not hold a state dict")
        state = {k.removeprefix("module."): v for k, v in state.items() if not k.startswith("fc.")}
        load_state_strict(self, state, source=str(path))


class DeconvHead(nn.Module):
    """Three ``ConvTranspose2d(k4, s2, p1) -> BN -> ReLU`` upsamplers and a 1x1 conv to J*D channels."""

    def __init__(self, in_channels: int, num_joints: int, depth_bins: int = 64, channels: int = 256) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(3):
            layers += [
                nn.ConvTranspose2d(in_channels if i == 0 else channels, channels, 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(channels),
                nn.ReLU(inplace=True),
            ]
        self.deconv_layers = nn.Sequential(*layers)
        self.final_layer = nn.Conv2d(channels, num_joints * depth_bins, 1)
        for m in self.modules():
            if isinstance(m, nn.ConvTranspose2d | nn.Conv2d):
                nn.init.normal_(m.weight, std=0.001)
        nn.init.zeros_(self.final_layer.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.final_layer(self.deconv_layers(x))
