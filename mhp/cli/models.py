"""``mhp-models``: print the model card of every registered architecture."""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
from collections.abc import Sequence
from pathlib import Path

import torch

from mhp.cli import run_command
from mhp.cli.options import CommandParser, add_config_arguments, parse_command_line
from mhp.config import ModelsConfig
from mhp.config.checks import flag
from mhp.errors import MhpError
from mhp.models import list_models, model_task, resolve_model_name
from mhp.models.card import ModelCard, model_card
from mhp.util.fileio import write_text_atomic

HEADER = ("model", "joints", "activation", "params", "GMACs", "volume J×D×H×W", "CPU ms")


HELP = {
    "models": "models to show (default: all registered image models)",
    "num_joints": "joints of every model",
    "activation": "LPNet activation: prelu (the original), relu or relu6",
    "repeats": "timed forwards per model",
    "markdown_out": "also write the table to this Markdown file",
}
OUTPUTS = ("json_out", "markdown_out")


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(prog="mhp-models", description=__doc__)
    parser.add_argument("--config", help="flat YAML with any of the options below")
    add_config_arguments(parser, ModelsConfig, help_text=HELP, positional="models")
    return parser


def parse_config(argv: Sequence[str] | None) -> ModelsConfig:
    """The words and flags (over their ``--config`` YAML) as a checked config, model names resolved; nothing runs."""
    cfg = parse_command_line(build_parser(), ModelsConfig, argv)
    return dataclasses.replace(cfg, models=tuple(resolve_model_name(m) for m in cfg.models))


def card_row(card: ModelCard) -> tuple[str, ...]:
    return (
        card.name,
        str(card.num_joints),
        card.activation,
        f"{card.params:,}",
        f"{card.macs / 1e9:.3f}",
        "×".join(map(str, card.volume)),
        f"{card.forward_ms:.1f}",
    )


def format_table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in [HEADER, *rows]) for i in range(len(HEADER))]

    def line(row: tuple[str, ...]) -> str:
        cells = [c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        return "  ".join(cells)

    return "\n".join(line(r) for r in [HEADER, *rows])


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo where there is one, else the architecture."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_line(cfg: ModelsConfig) -> str:
    return (
        f"{cpu_name()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, input 256x256, median of {cfg.repeats} forwards"
    )


def command_line(cfg: ModelsConfig) -> str:
    """The ``mhp-models`` invocation that reproduces ``cfg`` (output files left out)."""
    words = ["mhp-models", *cfg.models]
    defaults = ModelsConfig()
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        # threads always: their default follows the machine
        if f.name not in ("models", *OUTPUTS) and (value != getattr(defaults, f.name) or f.name == "threads"):
            words += [flag(f.name), str(value)]
    return " ".join(words)


def markdown_table(rows: list[tuple[str, ...]], cfg: ModelsConfig) -> str:
    lines = [
        "# mhp model cards",
        "",
        f"Command: `{command_line(cfg)}`  ",
        f"Machine: {machine_line(cfg)}.  ",
        "MACs: `torch.utils.flop_counter` (convolutions and matmuls), FLOPs / 2.  ",
        "CPU ms: one 256x256 image, soft-argmax included.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
        *("| " + " | ".join(r) + " |" for r in rows),
        "",
    ]
    return "\n".join(lines)


def body(argv: Sequence[str] | None) -> int:
    cfg = parse_config(argv)
    torch.set_num_threads(cfg.threads)
    cards = []
    for name in cfg.models or tuple(list_models("pose")):
        if model_task(name) != "pose":
            raise MhpError(
                f"mhp-models measures image models; {resolve_model_name(name)} lifts 2D joints (mhp-bench times it)"
            )
        kwargs: dict[str, object] = {"num_joints": cfg.num_joints}
        if cfg.activation and name != "RESNET50":
            kwargs["activation"] = cfg.activation
        cards.append(model_card(name, repeats=cfg.repeats, **kwargs))
    rows = [card_row(c) for c in cards]
    payload = {"machine": machine_line(cfg), "cards": [dataclasses.asdict(c) for c in cards]}
    if cfg.json_out == "-":
        print(json.dumps(payload, indent=2))
    else:
        print(format_table(rows))
        print(f"({machine_line(cfg)})")
    if cfg.json_out not in (None, "-"):
        write_text_atomic(cfg.json_out, json.dumps(payload, indent=2) + "\n")
    if cfg.markdown_out:
        write_text_atomic(cfg.markdown_out, markdown_table(rows, cfg))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(body, argv)


if __name__ == "__main__":
    raise SystemExit(main())
