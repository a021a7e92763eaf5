"""One frozen dataclass per ``mhp-data`` subcommand. A dataset to read is ``data``: ``NAME=ROOT`` (or
``synthetic`` where the subcommand has it), as every other command spells it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from mhp.config.checks import PROTOCOL, at_least, check_config
from mhp.config.commands import SEED

DATA_ALIASES = {"dataset": "data", "root": "data"}  # --dataset NAME --root DIR: the spelling before --data NAME=DIR


@dataclass(frozen=True)
class SynthConfig:
    """``mhp-data synth``: write synthetic humans in a real dataset's layout."""

    format: str
    out: str | None = None  # default: runs/data/FORMAT
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

    def __post_init__(self) -> None:
        check_config(
            self,
            {
                "seed": SEED,
                "images": at_least(1),
                "subjects": at_least(1),
                "actions": at_least(2, 16),
                "cameras": at_least(1, 4),
                "frames": at_least(1),
                "frame_step": at_least(1),
                "sequences": at_least(1),
            },
        )

    @property
    def out_folder(self) -> str:
        return self.out or f"runs/data/{self.format}"


@dataclass(frozen=True)
class CheckConfig:
    """``mhp-data check``: report every problem of a dataset folder."""

    DEPRECATED: ClassVar[dict[str, str]] = DATA_ALIASES

    data: str  # NAME=ROOT
    sample_images: int = 50

    def __post_init__(self) -> None:
        check_config(self, {"sample_images": at_least(0)})


@dataclass(frozen=True)
class InspectConfig:
    """``mhp-data inspect``: one sample's record."""

    DEPRECATED: ClassVar[dict[str, str]] = DATA_ALIASES

    data: str  # NAME=ROOT
    split: str
    index: int
    protocol: int = 2
    bbox_root: str | None = None
    json_out: str | None = None  # "-": the record as JSON on stdout

    def __post_init__(self) -> None:
        check_config(self, {"protocol": PROTOCOL})


@dataclass(frozen=True)
class ShowConfig:
    """``mhp-data show``: a PNG grid of augmented training crops with their targets drawn."""

    DEPRECATED: ClassVar[dict[str, str]] = {**DATA_ALIASES, "count": "samples"}

    data: str  # NAME=ROOT or synthetic
    out: str = "runs/data/show.png"
    split: str = "train"
    samples: int = 16
    seed: int = 0
    protocol: int = 2

    def __post_init__(self) -> None:
        check_config(self, {"samples": at_least(1), "seed": SEED, "protocol": PROTOCOL})


@dataclass(frozen=True)
class StatsConfig:
    """``mhp-data stats``: the limb prior (per-bone mean and std in mm) of a dataset's 3D poses, saved as JSON."""

    DEPRECATED: ClassVar[dict[str, str]] = DATA_ALIASES

    data: str  # NAME=ROOT (h36m, muco, mupots) or synthetic
    out: str = "runs/data/limb_prior.json"
    split: str | None = None  # default: the dataset's first (train; test for mupots)
    protocol: int = 2  # h36m: which subjects the split holds
    joint_set: str | None = None  # default: the dataset's own; H36M for synthetic
    samples: int = 2000  # synthetic poses
    seed: int = 0

    def __post_init__(self) -> None:
        # a standard deviation needs two poses
        check_config(self, {"protocol": PROTOCOL, "samples": at_least(2), "seed": SEED})
