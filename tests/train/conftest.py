"""A tiny training configuration that runs in seconds on the CPU."""

import pytest

from mhp.config import TrainConfig

TINY = {
    "backbone": "LPSKI",
    "width_mult": 0.25,
    "embedding_size": 32,
    "input_size": 64,
    "synthetic_samples": 48,
    "synthetic_val_samples": 8,
    "synthetic_image_size": 128,
    "epochs": 2,
    "batch_size": 8,
    "workers": 0,
    "device": "cpu",
    "log_every": 1,
}


def tiny_flags(**overrides) -> list[str]:
    flags = []
    for key, value in {**TINY, **overrides}.items():
        flag = f"--{key.replace('_', '-')}"
        if isinstance(value, bool):
            flags.append(flag if value else f"--no-{key.replace('_', '-')}")
        else:
            flags += [flag, str(value)]
    return flags


@pytest.fixture
def tiny_config(tmp_path):
    def make(**overrides):
        return TrainConfig(**{**TINY, "out": str(tmp_path / "run"), **overrides})

    return make
