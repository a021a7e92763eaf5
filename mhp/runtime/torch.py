"""The PyTorch float32 reference runner."""

from __future__ import annotations

import numpy as np
import torch

from mhp.runtime.base import Runner, check_pixels


class TorchRunner(Runner):
    def __init__(self, model: torch.nn.Module, *, device: str | torch.device = "cpu", batch_size: int = 32) -> None:
        self.model = model.eval().to(device)
        self.device, self.batch_size = torch.device(device), batch_size
        self.input_size = model.input_size
        self.name = f"torch {model.model_name or type(model).__name__} fp32"

    @torch.no_grad()
    def raw(self, pixels: np.ndarray) -> dict[str, np.ndarray]:
        pixels = check_pixels(pixels, self.input_size)
        self.model.eval()
        coords, confidence = [], []
        for start in range(0, len(pixels), self.batch_size):
            batch = torch.from_numpy(pixels[start : start + self.batch_size]).to(self.device)
            logits = self.model.forward_heatmaps(self.model.normalize(batch))
            c, p = self.model.integral.forward_with_confidence(logits)
            coords.append(c.cpu().numpy())
            confidence.append(p.cpu().numpy())
        return {"coords": np.concatenate(coords), "confidence": np.concatenate(confidence)}

    def run_one(self, pixels: np.ndarray) -> dict[str, np.ndarray]:
        return self.raw(pixels)
