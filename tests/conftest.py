"""Synthetic dataset folders written once per test session by the project's own writers."""

import pytest

from mhp.data.h36m_writer import write_h36m
from mhp.data.writers import write_coco, write_mpii, write_muco, write_mupots

H36M_OPTIONS = {
    "actions": (2, 3),
    "subactions": (1, 2),
    "cameras": (1, 2),
    "frames": 3,
    "frame_step": 32,
    "image_size": (480, 480),
}


@pytest.fixture(scope="session")
def synthetic_folders(tmp_path_factory):
    """{format: (root, truths)} for every dataset format."""
    base = tmp_path_factory.mktemp("synthetic")
    return {
        "h36m": (base / "h36m", write_h36m(base / "h36m", **H36M_OPTIONS)),
        "mpii": (base / "mpii", write_mpii(base / "mpii", num_images=24)),
        "coco": (base / "coco", write_coco(base / "coco", num_images=24, test_images=6)),
        "muco": (base / "muco", write_muco(base / "muco", num_images=30)),
        "mupots": (base / "mupots", write_mupots(base / "mupots", sequences=3, frames=4)),
    }


@pytest.fixture(scope="session")
def small_relu_checkpoint(tmp_path_factory):
    """A tiny ReLU LPSKI trained for three epochs at 128 px: enough signal for parity and benchmarks."""
    from mhp.config import TrainConfig
    from mhp.train.loop import train
    from tests.train.conftest import TINY

    out = tmp_path_factory.mktemp("run")
    overrides = {"activation": "relu", "input_size": 128, "synthetic_samples": 256, "epochs": 3, "batch_size": 16}
    cfg = TrainConfig(**{**TINY, **overrides, "lr": 2e-3}, out=str(out))
    return train(cfg)["checkpoint"]


@pytest.fixture(scope="session")
def small_relu_export(small_relu_checkpoint, tmp_path_factory):
    """(folder, {(format, precision): result}) of exporting that model to every target."""
    from mhp.config import ExportConfig
    from mhp.export.pipeline import export_checkpoint

    out = tmp_path_factory.mktemp("export")
    results = export_checkpoint(ExportConfig(checkpoint=small_relu_checkpoint, out=str(out), parity_samples=256))
    return out, {(r["format"], r["precision"]): r for r in results}
