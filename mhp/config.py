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


@dataclass(frozen=True)
class SynthConfig:
    """``mhp-data synth``: write synthetic humans in a real dataset's layout."""

    format: str
    out: str
    seed: int = 0
    image_size: tuple[int, int] | None = None  # None: the format's default
    images: int | None = None  # mpii, coco, muco
    subjects: tuple[int, ...] | None = None  # h36m
    actions: tuple[int, ...] | None = None  # h36m
    cameras: tuple[int, ...] | None = None  # h36m
    frames: int | None = None  # h36m, mupots
    frame_step: int | None = None  # h36m
    sequences: int | None = None  # mupots
    overwrite: bool = False


@dataclass(frozen=True)
class CheckConfig:
    """``mhp-data check``: report every problem of a dataset folder."""

    dataset: str
    root: str
    sample_images: int = 50


@dataclass(frozen=True)
class InspectConfig:
    """``mhp-data inspect``: one sample's record."""

    dataset: str
    root: str
    split: str
    index: int
    protocol: int = 2
    bbox_root: str | None = None
    json: bool = False


@dataclass(frozen=True)
class ShowConfig:
    """``mhp-data show``: a PNG grid of augmented training crops with their targets drawn."""

    dataset: str
    out: str
    root: str | None = None  # not needed for the synthetic dataset
    split: str = "train"
    count: int = 16
    seed: int = 0
    protocol: int = 2
