"""The image model learns: trained with the project's targets and loss, it fits a small synthetic set far below the
mean-pose baseline, scored by the evaluation code (a broken target, loss, head or camera conversion fails here)."""

import pytest
import torch

import mhp
from mhp.data.dataset import CropConfig, PoseDataset
from mhp.data.synthetic import SyntheticHumans
from mhp.eval.pose import run_synthetic
from mhp.skeleton import H36M
from mhp.train.loss import integral_l1_loss

pytestmark = pytest.mark.slow


def test_a_tiny_lpski_overfits_32_people_to_well_below_the_mean_pose():
    torch.manual_seed(0)
    model = mhp.create_model("LPSKI", width_mult=0.25, embedding_size=32, input_size=64, activation="relu")
    scenes = SyntheticHumans(32, seed=4, image_size=(128, 128))
    samples = [PoseDataset(scenes, H36M, CropConfig.for_model(model), train=False)[i] for i in range(len(scenes))]
    batch = {k: torch.stack([s[k] for s in samples]) for k in ("image", "joints", "vis", "has_depth")}
    before = run_synthetic(model, scenes, scenes, flip=None)["metrics"]
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    order = torch.Generator().manual_seed(0)
    for _ in range(250):
        model.train()
        pick = torch.randperm(len(scenes), generator=order)[:16]
        loss = integral_l1_loss(
            model(batch["image"][pick]), batch["joints"][pick], batch["vis"][pick], batch["has_depth"][pick]
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    after = run_synthetic(model, scenes, scenes, flip=None)["metrics"]
    assert before["ratio_to_baseline"] > 1.0  # untrained: worse than always answering the mean pose
    assert after["ratio_to_baseline"] <= 0.6  # measured 0.32 (MPJPE 75 mm against a 232 mm baseline)
