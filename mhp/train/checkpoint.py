"""Training checkpoints: the model (mhp format) plus everything ``--resume`` needs to continue exactly.

Written atomically (temp file, fsync, rename): a run killed at any moment leaves the previous ``last.pt``
intact. Besides the model, a training checkpoint holds the optimiser and AMP scaler state, the epoch and the
step within it, the best validation score, the run's history and the RNG states.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mhp.errors import CheckpointError
from mhp.models.checkpoint import read_checkpoint, save_checkpoint
from mhp.models.state import load_state_strict


@dataclass
class TrainState:
    epoch: int = 0  # the epoch in progress (or to start)
    step_in_epoch: int = 0  # optimiser steps already taken in that epoch
    global_step: int = 0
    best_val: float = float("inf")
    seconds: float = 0.0  # training time so far, resumes included
    history: list[dict[str, Any]] = field(default_factory=list)


def rng_state() -> dict[str, Any]:
    np_state = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:]],
        "python": random.getstate(),
    }


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if state.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    name, keys, *rest = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), *rest))
    random.setstate(tuple(v if not isinstance(v, list) else tuple(v) for v in state["python"]))


def save_training(
    path: Path,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    state: TrainState,
    config: dict[str, Any],
    selection: dict[str, Any] | None = None,
    **extra: Any,
) -> Path:
    """``extra``: more state dicts to keep (a GAN critic and its optimiser), restored by :func:`load_training`;
    ``selection``: which file of the run this is and why it was kept (read back by ``selection_of``)."""
    return save_checkpoint(
        path,
        model,
        config=config,
        selection=selection or {},
        optimizer=optimizer.state_dict(),
        scaler=scaler.state_dict(),
        train_state={k: v for k, v in vars(state).items()},
        rng=rng_state(),
        **{name: value.state_dict() for name, value in extra.items()},
    )


def load_training(
    path: Path,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    **extra: Any,
) -> TrainState:
    """Restore a training checkpoint into ``model``/``optimizer``/``scaler`` (and the ``extra`` objects saved
    with :func:`save_training`); refuse one of another model."""
    content = read_checkpoint(path)
    if not isinstance(content, dict) or "train_state" not in content:
        raise CheckpointError(f"{path} is not an mhp training checkpoint (no optimiser state); start a new --out")
    recorded = (content.get("model"), content.get("model_kwargs"))
    if recorded != (model.model_name, model.model_kwargs):
        raise CheckpointError(
            f"{path} was trained as {recorded[0]} {recorded[1]}, not {model.model_name} {model.model_kwargs}; "
            "resume with the same model options, or start a new --out"
        )
    load_state_strict(model, content["state_dict"], source=str(path))
    missing = [name for name in extra if not isinstance(content.get(name), dict)]
    if missing:
        raise CheckpointError(f"{path} lacks the {', '.join(missing)} state this run needs; start a new --out")
    optimizer.load_state_dict(content["optimizer"])
    if content["scaler"]:  # empty: saved without a scaler (float32 or bfloat16), so one turned on now starts afresh
        scaler.load_state_dict(content["scaler"])
    for name, value in extra.items():
        if isinstance(value, torch.nn.Module):
            load_state_strict(value, content[name], source=f"{path} ({name})")
        else:
            value.load_state_dict(content[name])
    set_rng_state(content["rng"])
    return TrainState(**content["train_state"])
