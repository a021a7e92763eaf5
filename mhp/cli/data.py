"""``mhp-data``: write synthetic datasets, check dataset folders, inspect samples, look at training crops.

mhp-data synth   --format {h36m,mpii,coco,muco,mupots} [--out DIR]
mhp-data check   --data NAME=ROOT
mhp-data inspect --data NAME=ROOT --split {train,test} [--protocol N] --index I [--json [PATH]]
mhp-data show    --data {NAME=ROOT,synthetic} [--out grid.png]
mhp-data stats   --data {h36m,muco,mupots}=ROOT|synthetic [--joint-set SET] [--out prior.json]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from inspect import signature
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from mhp.cli import run_command
from mhp.cli.options import CommandParser, add_config_arguments
from mhp.config import CheckConfig, InspectConfig, ShowConfig, StatsConfig, SynthConfig
from mhp.config.resolve import resolve_config
from mhp.data import DATASETS, SYNTHETIC, data_flag, read_dataset
from mhp.data.check import check_dataset
from mhp.data.dataset import CropConfig, PoseDataset
from mhp.data.h36m_writer import write_h36m
from mhp.data.io import DatasetError
from mhp.data.limb_stats import dataset_limb_prior, prior_table, synthetic_limb_prior
from mhp.data.show import make_grid, sample_tiles
from mhp.data.synthetic import SyntheticHumans
from mhp.data.writers import write_coco, write_mpii, write_muco, write_mupots
from mhp.limbs import write_limb_prior
from mhp.skeleton import H36M, get_joint_set
from mhp.util.fileio import atomic_path, write_text_atomic
from mhp.util.progress import Progress

GROUP_LABEL = {"h36m": "action", "mupots": "sequence"}
CONFIGS = {
    "synth": SynthConfig,
    "check": CheckConfig,
    "inspect": InspectConfig,
    "show": ShowConfig,
    "stats": StatsConfig,
}
WRITERS = {"h36m": write_h36m, "mpii": write_mpii, "coco": write_coco, "muco": write_muco, "mupots": write_mupots}
# SynthConfig field -> writer argument, for the formats that take it
WRITER_OPTIONS = {
    "h36m": {
        "subjects": "subjects",
        "actions": "actions",
        "cameras": "cameras",
        "frames": "frames",
        "frame_step": "frame_step",
    },
    "mpii": {"images": "num_images"},
    "coco": {"images": "num_images"},
    "muco": {"images": "num_images"},
    "mupots": {"frames": "frames", "sequences": "sequences"},
}


def _size(text: str) -> tuple[int, int]:
    parts = text.lower().split("x")
    try:
        w, h = (int(parts[0]), int(parts[-1]))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT or one number, got {text!r}") from None
    if not (64 <= w <= 8192 and 64 <= h <= 8192):
        raise argparse.ArgumentTypeError(f"image size {w}x{h} is outside 64..8192")
    return w, h


SUBCOMMANDS = {
    "synth": "write synthetic humans in a real dataset's on-disk layout",
    "check": "list every problem of a dataset folder",
    "inspect": "print one sample's record",
    "show": "write a PNG grid of augmented training crops with the targets drawn",
    "stats": "per-bone mean and std (mm) of a dataset's 3D poses: the limb prior",
}
HELP = {
    "format": "the dataset layout to write",
    "sample_images": "images decoded to check they read (0: none)",
    "image_size": "WIDTHxHEIGHT (default: the format's)",
    "images": "images to write (mpii, coco, muco)",
    "subjects": "h36m subject ids, e.g. 1,5,9,11",
    "actions": "h36m action indices 2..16",
    "cameras": "h36m cameras 1..4",
    "frames": "frames per sequence (h36m, mupots)",
    "frame_step": "h36m: frame index step between written frames",
    "sequences": "mupots: number of TS sequences",
    "overwrite": "allow writing into a non-empty folder",
    "bbox_root": "RootNet bbox_root JSON for test splits",
    "split": "train or test (stats: default the dataset's first; mupots: test)",
    "joint_set": "bones of this joint set (default: the dataset's own; synthetic: H36M)",
}
SAMPLES_HELP = {"show": "training crops in the grid", "stats": "synthetic poses to measure"}
NAMES = "NAME one of " + ", ".join(DATASETS)
DATA_HELP = {
    "check": f"the dataset folder to check: NAME=ROOT ({NAMES})",
    "inspect": f"the dataset: NAME=ROOT ({NAMES})",
    "show": f"the dataset: NAME=ROOT ({NAMES}) or synthetic",
    "stats": "the dataset: NAME=ROOT (h36m, muco or mupots: 3D poses) or synthetic",
}


OUT_HELP = {
    "synth": "new or empty output folder (default: runs/data/FORMAT)",
    "show": "PNG file to write",
    "stats": "limb prior JSON to write",
}
ACCEPTED = {
    "check": tuple(DATASETS),
    "inspect": tuple(DATASETS),
    "show": (*DATASETS, SYNTHETIC),
    "stats": (*DATASETS, SYNTHETIC),
}
CHOICES = {"format": sorted(WRITERS), "split": ["train", "test"]}


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(prog="mhp-data", description="Datasets: synthesise, check, inspect, show, stats.")
    sub = parser.add_subparsers(dest="command", required=True)
    for command, text in SUBCOMMANDS.items():
        subparser = sub.add_parser(command, help=text, description=text)
        subparser.add_argument("--config", help="flat YAML with any of the options below")
        add_config_arguments(
            subparser,
            CONFIGS[command],
            help_text={
                **HELP,
                "out": OUT_HELP.get(command, ""),
                "samples": SAMPLES_HELP.get(command, ""),
                "data": DATA_HELP.get(command, ""),
            },
            choices=CHOICES,
            parsers={"image_size": _size},
        )
    return parser


def synth(cfg: SynthConfig) -> int:
    out = Path(cfg.out_folder)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not cfg.overwrite:
        raise DatasetError(f"{out} exists and is not empty; choose a new folder or pass --overwrite")
    kwargs: dict[str, Any] = {"seed": cfg.seed}
    if cfg.image_size:
        kwargs["image_size"] = cfg.image_size
    for option, argument in WRITER_OPTIONS[cfg.format].items():
        if getattr(cfg, option) is not None:
            kwargs[argument] = getattr(cfg, option)
    ignored = [
        o
        for o in ("images", "subjects", "actions", "cameras", "frames", "frame_step", "sequences")
        if getattr(cfg, o) is not None and o not in WRITER_OPTIONS[cfg.format]
    ]
    if ignored:
        raise DatasetError(f"--{ignored[0].replace('_', '-')} does not apply to --format {cfg.format}")
    progress = Progress(expected_images(cfg.format, kwargs), "images")
    truths = WRITERS[cfg.format](out, on_image=progress.step, **kwargs)
    images = len({t.file_name for t in truths})
    print(f"wrote synthetic {cfg.format}: {len(truths)} annotated people in {images} images under {out}")
    return 0


def expected_images(layout: str, kwargs: dict[str, Any]) -> int:
    """How many images the writer of ``layout`` writes with ``kwargs`` (over its own defaults): the progress total."""
    value = {name: kwargs.get(name, p.default) for name, p in signature(WRITERS[layout]).parameters.items()}
    if layout == "h36m":
        sequences = len(value["subjects"]) * len(value["actions"]) * len(value["subactions"])
        return sequences * value["frames"] * len(value["cameras"])
    if layout == "mupots":
        return value["sequences"] * value["frames"]
    return value["num_images"] + value.get("test_images", 0)


def check(cfg: CheckConfig) -> int:
    report = check_dataset(*data_flag(cfg.data, ACCEPTED["check"]), sample_images=cfg.sample_images)
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


def _listed(value: Any) -> Any:
    return np.round(np.asarray(value, np.float64), 4).tolist() if isinstance(value, np.ndarray) else value


def inspect(cfg: InspectConfig) -> int:
    name, root = data_flag(cfg.data, ACCEPTED["inspect"])
    annotations = read_dataset(name, root, cfg.split, protocol=cfg.protocol, bbox_root=cfg.bbox_root)
    if not 0 <= cfg.index < len(annotations):
        raise DatasetError(f"--index {cfg.index} is outside 0..{len(annotations) - 1} ({len(annotations)} samples)")
    record = annotations.record(cfg.index)
    fields = {GROUP_LABEL.get(annotations.name, "group") if k == "group" else k: v for k, v in vars(record).items()}
    payload = {
        "dataset": annotations.name,
        "split": annotations.split,
        "index": cfg.index,
        "joints": list(annotations.joint_set.joints),
        **{k: _listed(v) for k, v in fields.items()},
    }
    if cfg.json_out == "-":
        print(json.dumps(payload, indent=2))
    else:
        for key, value in payload.items():
            print(f"{key:>12}: {value}")
    if cfg.json_out not in (None, "-"):
        write_text_atomic(cfg.json_out, json.dumps(payload, indent=2) + "\n")
    return 0


def show(cfg: ShowConfig) -> int:
    name, root = data_flag(cfg.data, ACCEPTED["show"])
    if name == SYNTHETIC:
        source = SyntheticHumans(cfg.samples, joint_set=H36M, seed=cfg.seed)
    else:
        source = read_dataset(name, root, cfg.split, protocol=cfg.protocol)
    if len(source) == 0:
        raise DatasetError(f"{name} {cfg.split} has no samples to show")
    dataset = PoseDataset(source, source.joint_set, CropConfig(), train=cfg.split == "train", seed=cfg.seed)
    indices = np.random.default_rng(cfg.seed).choice(len(source), size=min(cfg.samples, len(source)), replace=False)
    grid = make_grid(sample_tiles(dataset, sorted(int(i) for i in indices)))
    out = Path(cfg.out)
    ok, data = cv2.imencode(".png", grid)
    if not ok:
        raise DatasetError(f"could not encode the grid as PNG for {out}")
    with atomic_path(out) as tmp:
        tmp.write_bytes(data.tobytes())
    print(f"wrote {len(indices)} training crops to {out}")
    return 0


def stats(cfg: StatsConfig) -> int:
    name, root = data_flag(cfg.data, ACCEPTED["stats"])
    if name == SYNTHETIC:
        prior = synthetic_limb_prior(cfg.samples, cfg.seed, get_joint_set(cfg.joint_set or H36M.name))
    else:
        joint_set = get_joint_set(cfg.joint_set) if cfg.joint_set else None
        prior = dataset_limb_prior(name, root, cfg.split, protocol=cfg.protocol, joint_set=joint_set)
    write_limb_prior(cfg.out, prior)
    print(f"limb prior of {prior.source}, {prior.joint_set} bones:")
    print(prior_table(prior))
    print(f"wrote {cfg.out}")
    return 0


Config = SynthConfig | CheckConfig | InspectConfig | ShowConfig | StatsConfig


def parse_config(argv: Sequence[str] | None) -> Config:
    """The subcommand's flags (over their ``--config`` YAML) as its checked config; nothing runs."""
    args = vars(build_parser().parse_args(argv))
    return resolve_config(CONFIGS[args.pop("command")], yaml_path=args.pop("config"), flags=args)


def body(argv: Sequence[str] | None) -> int:
    cfg = parse_config(argv)
    if isinstance(cfg, SynthConfig):
        return synth(cfg)
    if isinstance(cfg, CheckConfig):
        return check(cfg)
    if isinstance(cfg, InspectConfig):
        return inspect(cfg)
    if isinstance(cfg, StatsConfig):
        return stats(cfg)
    return show(cfg)


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(body, argv)


if __name__ == "__main__":
    raise SystemExit(main())
