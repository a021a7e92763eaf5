"""The exported computation: 0-255 RGB pixels in, normalisation inside, coordinates or heatmaps out."""

from __future__ import annotations

import torch
from torch import nn

from mhp.geometry import NORMALIZATIONS
from mhp.models.pose_model import IntegralPoseModel

OUTPUTS = ("coords", "heatmaps")


class ExportModule(nn.Module):
    """``pixels (N, 3, S, S)`` -> ``(coords (N, J, 3), confidence (N, J))`` or heatmap logits ``(N, J*D, H, W)``.

    ``centered=True`` expects pixels already scaled and mean-subtracted (a CoreML ``ImageType`` does that
    with its scale and bias), so only the per-channel division by the ImageNet std stays in the graph.
    """

    def __init__(self, model: IntegralPoseModel, *, outputs: str = "coords", centered: bool = False) -> None:
        super().__init__()
        if outputs not in OUTPUTS:
            raise ValueError(f"outputs must be one of {OUTPUTS}")
        self.model, self.outputs, self.centered = model, outputs, centered
        # (pixel * scale - mean) / std as one multiply-add: in full-INT8 TFLite a SUB of the mean is left outside
        # XNNPACK, while MUL and ADD are delegated.
        std, mean = model.pixel_std.clone(), model.pixel_mean.clone()
        gain = 1.0 / std if centered else NORMALIZATIONS[model.normalization] / std
        self.register_buffer("gain", gain, persistent=False)
        self.register_buffer("offset", torch.zeros_like(mean) if centered else -mean / std, persistent=False)
        self.eval()  # exporters restore the wrapper's mode afterwards: it must be eval, or BatchNorm trains

    def forward(self, pixels: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        images = pixels * self.gain + self.offset
        logits = self.model.forward_heatmaps(images)
        if self.outputs == "heatmaps":
            return logits
        return self.model.integral.forward_with_confidence(logits)


def image_type_scale_bias(model: IntegralPoseModel) -> tuple[float, list[float]]:
    """CoreML ``ImageType`` scale and per-channel bias that feed :class:`ExportModule` with ``centered=True``."""
    return NORMALIZATIONS[model.normalization], [-float(m) for m in model.pixel_mean.flatten()]
