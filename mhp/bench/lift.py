"""``mhp-bench`` for 2D→3D lifters: the poses every format of a lifter is scored on, and its MACs.

A lifter's rows are timed on one normalised 2D pose per call (batch 1, as an app lifts one person per frame)
and scored like the export gate: MPJPE, PA-MPJPE and ΔMPJPE against the torch float32 lifter.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from mhp.config import BenchConfig
from mhp.data.lift_pairs import pairs_from_annotations
from mhp.errors import MhpError
from mhp.eval.parity import LiftParitySet, lift_parity_set, normalized_keypoints
from mhp.models import model_task


def is_lifter(model) -> bool:
    return model_task(model.model_name) == "lift"


def lift_evaluation_set(model, cfg: BenchConfig) -> tuple[LiftParitySet, str]:
    """Held-out synthetic pairs, or the ground-truth 2D/3D poses of Human3.6M's protocol-2 test split."""
    if cfg.data == "synthetic":
        data = lift_parity_set(model, cfg.samples)
        return data, data.label
    from mhp.data import read_dataset, split_entry

    root = split_entry(cfg.data)[1]
    pairs = pairs_from_annotations(read_dataset("h36m", root, "test", protocol=2), model.joint_set)
    pairs = pairs.complete()
    if len(pairs) == 0:
        raise MhpError(f"--data {cfg.data} has no test pose with every {model.joint_set.name} joint")
    picks = np.unique(np.linspace(0, len(pairs) - 1, num=min(cfg.samples, len(pairs)), dtype=int))
    uv = normalized_keypoints(model, pairs.joints_2d[picks])
    label = f"h36m protocol 2 (S9, S11), {len(picks)} of {len(pairs)} ground-truth 2D poses"
    return LiftParitySet(uv, pairs.joints_3d[picks], model.joint_set, label), label


def lift_macs(model) -> int:
    """MACs of lifting one pose, from ``torch.utils.flop_counter`` (FLOPs / 2)."""
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model.eval()(torch.zeros(1, model.num_joints, 2))
    return counter.get_total_flops() // 2
