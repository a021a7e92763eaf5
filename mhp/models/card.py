"""Model cards: parameters, multiply-accumulates, output volume and CPU forward time of a model."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from mhp.models import create_model
from mhp.models.pose_model import IntegralPoseModel


@dataclass(frozen=True)
class ModelCard:
    name: str
    num_joints: int
    activation: str
    params: int
    macs: int  # multiply-accumulates of one forward (convolutions and matmuls), counted by torch
    volume: tuple[int, int, int, int]  # (J, D, H, W) of the heatmap logits
    input_size: int
    forward_ms: float  # median wall time of one single-image CPU forward, soft-argmax included
    threads: int


def count_parameters(model: torch.nn.Module) -> int:
    """Trainable parameters (BN running statistics excluded), as reference §14 counts them."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def count_macs(model: IntegralPoseModel, batch: int = 1) -> int:
    """MACs of one forward at the model's input size, from ``torch.utils.flop_counter`` (FLOPs / 2)."""
    x = torch.zeros(batch, 3, model.input_size, model.input_size)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(x)
    return counter.get_total_flops() // 2


def time_forward(model: IntegralPoseModel, repeats: int = 5, warmup: int = 2) -> float:
    """Median milliseconds of a single-image forward on the CPU after ``warmup`` untimed runs."""
    x = torch.randn(1, 3, model.input_size, model.input_size)
    times = []
    with torch.inference_mode():
        for i in range(warmup + repeats):
            start = time.perf_counter()
            model(x)
            if i >= warmup:
                times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def model_card(name: str, *, repeats: int = 5, **kwargs: Any) -> ModelCard:
    """Build model ``name`` with ``kwargs`` and measure it."""
    model = create_model(name, **kwargs).eval()
    h, w = model.heatmap_size[1], model.heatmap_size[0]
    return ModelCard(
        name=model.model_name,
        num_joints=model.num_joints,
        activation=str(model.model_kwargs.get("activation", "relu")),
        params=count_parameters(model),
        macs=count_macs(model),
        volume=(model.num_joints, model.depth_bins, h, w),
        input_size=model.input_size,
        forward_ms=time_forward(model, repeats=repeats),
        threads=torch.get_num_threads(),
    )
