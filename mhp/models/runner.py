"""The PyTorch float32 reference runners: an image model and a lifter behind the runtime interfaces, as the
parity gates, the benchmark and ``Predictor`` on a checkpoint use them."""

from __future__ import annotations

import numpy as np
import torch

from mhp.runtime.base import Runner, check_pixels
from mhp.runtime.lift import LiftRunner, check_keypoints


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


class TorchLiftRunner(LiftRunner):
    """The float32 PyTorch lifter, in batches of ``batch_size``."""

    def __init__(self, model, *, batch_size: int = 4096) -> None:
        self.model, self.batch_size = model.eval(), batch_size
        self.num_joints = model.num_joints
        self.name = f"torch {model.model_name or type(model).__name__} fp32"

    def __call__(self, uv: np.ndarray) -> np.ndarray:
        uv = check_keypoints(uv, self.num_joints)
        with torch.no_grad():
            poses = [
                self.model(torch.from_numpy(uv[i : i + self.batch_size])) for i in range(0, len(uv), self.batch_size)
            ]
        return torch.cat(poses).numpy()

    def run_one(self, uv: np.ndarray) -> np.ndarray:
        return self(uv)
