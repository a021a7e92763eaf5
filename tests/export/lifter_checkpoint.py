"""A small trained LIFT_MLP checkpoint for export, runtime and bench tests (seconds on a CPU)."""

from pathlib import Path

import torch

from mhp.data.lift_pairs import synthetic_pairs
from mhp.models import create_model
from mhp.models.checkpoint import save_checkpoint
from mhp.skeleton import H36M

SEED = 7  # the "training seed" recorded in the config: INT8 calibration draws its poses from it


def train_lifter(path: Path, *, width: int = 64, steps: int = 300, output: str = "xyz") -> Path:
    """Fit an ``output`` lifter of ``width`` to 2000 synthetic pairs with Adam (MSE in metres); save it.

    One torch thread: on a busy 2-core machine more threads make these tiny steps ten times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return fit(path, width=width, steps=steps, output=output)
    finally:
        torch.set_num_threads(threads)


def fit(path: Path, *, width: int, steps: int, output: str) -> Path:
    torch.manual_seed(0)
    model = create_model("LIFT_MLP", output=output, width=width, dropout=0.0)
    pairs = synthetic_pairs(2000, 0, H36M)
    uv = model.normalize(torch.tensor(pairs.joints_2d, dtype=torch.float32))[0]
    target = torch.tensor(pairs.joints_3d, dtype=torch.float32) / 1000
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    model.train()
    for _ in range(steps):
        batch = torch.randint(0, len(uv), (128,))
        loss = (model(uv[batch]) / 1000 - target[batch]).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    return save_checkpoint(path, model, config={"seed": SEED, "task": "lift"})
