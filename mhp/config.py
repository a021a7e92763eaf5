"""One frozen dataclass per command: the values it runs with, nothing global."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelsConfig:
    """``mhp-models``: the model card of every registered architecture."""

    models: tuple[str, ...] = ()  # empty: every registered model
    num_joints: int = 18
    activation: str | None = None  # None: each model's own (prelu for LPNets)
    repeats: int = 5
    threads: int = 0  # 0: torch's default
    json_out: str | None = None
    markdown_out: str | None = None
