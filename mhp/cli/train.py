"""``mhp-train``: train a model; defaults < ``--config`` YAML < flags.

mhp-train                                                     # LPSKI on synthetic humans
mhp-train --task lift --supervision 2d                        # a 2D->3D lifter from 2D poses only
mhp-train --recipe lpski_h36m_p2 --data-3d h36m=/data/Human36M --data-2d mpii=/data/MPII
mhp-train --list-recipes                                      # the recipes shipped with mhp
torchrun --nproc-per-node 4 -m mhp.cli.train --recipe ...    # DDP on 4 GPUs
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from mhp.cli import run_command
from mhp.cli.options import CommandParser, add_config_arguments, add_recipe_arguments
from mhp.config import TrainConfig
from mhp.config.resolve import config_dict, resolve_config
from mhp.errors import MhpError

HELP = {
    "task": "pose (images -> 3D, --backbone) or lift (2D joints -> 3D, LIFT_MLP)",
    "supervision": "lift: 3d (2D/3D pairs, Martinez et al.) or 2d (2D poses only, Chen et al.)",
    "backbone": "model name: LPSKI, LPSKI_LARGE, LPWO, LPRES, RESNET50",
    "data_3d": "3D training sets as NAME=ROOT (h36m, muco) or synthetic",
    "data_2d": "2D training sets as NAME=ROOT (mpii, coco) or synthetic (depth hidden)",
    "val_data": "validate on the slice held out of NAME=ROOT's training split (h36m, muco), synthetic, or none "
    "(train on the whole split, as the original)",
    "resume": "a training checkpoint, or auto for OUT/last.pt",
    "weight_geo": "weight of Zhou et al.'s bone-length-ratio loss on 2D-only samples (true 2D, predicted depth)",
    "geo_from_epoch": "epochs trained before the bone-length-ratio loss joins (Zhou et al.'s last stage)",
    "weight_limb": "weight of the loss on bone lengths outside 2 sigma of the limb prior",
    "limb_prior": "limb-length prior JSON (mhp-data stats); default: measured on the 3D training poses",
    "critic_accuracy_cap": "lift --supervision 2d: the critic skips batches it already judges this well",
    "embedding_size": "channels of the LPNet's last layer before the heatmap head",
    "activation": "LPNet activation: prelu (the original), relu or relu6 (one XNNPACK partition in INT8)",
    "normalization": "legacy (0-255 minus the ImageNet mean over its std, as the original) or unit (x/255)",
    "lift_blocks": "lift: residual blocks of the MLP",
    "lift_dropout": "lift: dropout of the MLP",
    "epochs": "epochs to train",
    "lr": "Adam learning rate",
    "lr_decay_epochs": "epochs after which the learning rate is divided by --lr-decay-factor",
    "lr_decay_factor": "what the learning rate is divided by at each --lr-decay-epochs",
    "adam_eps": "Adam's epsilon",
    "weight_consistency": "lift --supervision 2d: weight of the 3D consistency loss",
    "weight_reprojection": "lift --supervision 2d: weight of the 2D reprojection loss",
    "scale_factor": "augmentation: random scale within 1 +- this",
    "rotation_factor": "augmentation: random rotation within +- this many degrees",
    "rotation_prob": "augmentation: share of crops rotated",
    "flip_prob": "augmentation: share of crops mirrored",
    "color_factor": "augmentation: random colour gain within 1 +- this per channel",
    "occlusion_prob": "augmentation: share of crops with a synthetic occluder",
    "channels_last": "NHWC memory layout (faster on CUDA and most CPUs)",
    "sync_bn": "synchronise BatchNorm statistics over all processes",
    "out": "the run folder: checkpoints, log.csv, results.png, config.yaml, TensorBoard",
    "max_steps_per_epoch": "cut every epoch after this many steps (quick trials)",
    "log_every": "steps between log.csv rows and progress lines",
}


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(prog="mhp-train", description=__doc__.splitlines()[0])
    add_recipe_arguments(parser, "train", "a flat YAML recipe of your own (start from a shipped one)")
    add_config_arguments(parser, TrainConfig, help_text=HELP)
    return parser


# what a resumed run may change: how long, where and how fast it runs, never what it trains
RESUME_MAY_CHANGE = {
    "epochs", "time_limit_min", "save_every_min", "max_steps_per_epoch", "log_every", "device", "amp", "workers",
    "fast_decode", "out", "resume", "dist_backend",
}  # fmt: skip


def parse_config(argv: Sequence[str] | None) -> TrainConfig:
    """The flags (over their ``--config`` YAML) as a checked config; nothing runs. ``--resume auto`` without
    ``--config`` continues the run in ``--out`` with the config it saved there (flags that change what it trains
    are refused)."""
    args = vars(build_parser().parse_args(argv))
    yaml_path = args.pop("config")
    saved = Path(args["out"] or TrainConfig.out) / "config.yaml"
    if args["resume"] != "auto" or yaml_path is not None or not saved.is_file():
        return resolve_config(TrainConfig, yaml_path=yaml_path, flags=args)
    run, cfg = (
        resolve_config(TrainConfig, yaml_path=str(saved)),
        resolve_config(TrainConfig, yaml_path=str(saved), flags=args),
    )
    for key in sorted(set(config_dict(cfg)) - RESUME_MAY_CHANGE):
        if getattr(cfg, key) != getattr(run, key):
            raise MhpError(
                f"--{key.replace('_', '-')} {getattr(cfg, key)} differs from the run being resumed in {saved.parent} "
                f"({getattr(run, key)}, in its config.yaml); drop the flag, or train into another --out"
            )
    return cfg


def body(argv: Sequence[str] | None) -> int:
    cfg = parse_config(argv)
    if cfg.task == "lift":
        from mhp.train.lift_loop import train_lift  # heavy imports after argument errors are reported

        train_lift(cfg)
    else:
        from mhp.train.loop import train

        train(cfg)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(body, argv)


if __name__ == "__main__":
    raise SystemExit(main())
