"""Loading state dicts strictly, with a readable account of what does not fit."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from mhp.errors import CheckpointError

SHOWN_KEYS = 4


def _some(items: list[str]) -> str:
    shown = "; ".join(items[:SHOWN_KEYS])
    return shown + (f"; and {len(items) - SHOWN_KEYS} more" if len(items) > SHOWN_KEYS else "")


def state_mismatches(module: nn.Module, state: Mapping[str, torch.Tensor]) -> list[str]:
    """Human-readable descriptions of missing keys, unexpected keys and shape differences."""
    own = module.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    wrong = [
        f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
        for k in own
        if k in state and tuple(state[k].shape) != tuple(own[k].shape)
    ]
    problems = []
    if wrong:
        problems.append(f"{len(wrong)} shape mismatches ({_some(wrong)})")
    if missing:
        problems.append(f"{len(missing)} keys missing from the checkpoint ({_some(missing)})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected keys ({_some(unexpected)})")
    return problems


def load_state_strict(module: nn.Module, state: Mapping[str, torch.Tensor], *, source: str, hint: str = "") -> None:
    """``module.load_state_dict(state)`` that fails with one line naming every kind of mismatch."""
    bad = [k for k, v in state.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise CheckpointError(f"{source}: state dict entries are not tensors ({_some(bad)})")
    problems = state_mismatches(module, state)
    if problems:
        tail = f"; {hint}" if hint else ""
        raise CheckpointError(f"{source} does not fit the model: {', '.join(problems)}{tail}")
    module.load_state_dict(state, strict=True)
