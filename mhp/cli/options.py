"""The command line of every command: one flag per field of its config dataclass (``batch_size`` ->
``--batch-size``), so the dataclass is the single list of options; ``--config PATH`` or a shipped recipe by name;
parsing ends in :func:`mhp.config.resolve.resolve_config` (defaults < YAML < flags)."""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import inspect
import re
import sys
import typing
from collections.abc import Callable, Sequence
from typing import Any

from mhp.config.checks import flag
from mhp.config.recipes import KINDS, format_recipe_list, recipe_path
from mhp.config.resolve import C, field_types, has_no_default, resolve_config, unwrap_optional


class CommandParser(argparse.ArgumentParser):
    """argparse with one-line errors: an unknown flag is named with the closest known ones, not a page of usage;
    the description is the command's docstring line as a user reads it (no reST quotes, no spec references)."""

    def __init__(self, *args: Any, description: str | None = None, **kwargs: Any) -> None:
        if description:
            description = re.sub(r"\s*\((?:reference|spec) §[^)]*\)", "", description.replace("``", ""))
        super().__init__(*args, description=description, **kwargs)

    def error(self, message: str) -> typing.NoReturn:
        words = message.removeprefix("unrecognized arguments: ").split() if "unrecognized" in message else []
        unknown = next((w.split("=")[0] for w in words if w.startswith("-")), None)
        if unknown is not None:
            parsers = [self] + [
                sub
                for a in self._actions
                for sub in (a.choices or {}).values()
                if isinstance(sub, argparse.ArgumentParser)
            ]
            known = sorted(  # the flags --help shows, not the old names kept for one release
                {
                    o
                    for parser in parsers
                    for a in parser._actions
                    if a.help != argparse.SUPPRESS
                    for o in a.option_strings
                    if o.startswith("--")
                }
            )
            close = difflib.get_close_matches(unknown, known, n=2, cutoff=0.6)
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            message = f"unknown flag {unknown}{hint}"
        elif words:
            message = f"unexpected argument {words[0]}"
        self.exit(2, f"{self.prog}: error: {message} ({self.prog} --help lists the flags)\n")


def parse_command_line(parser: argparse.ArgumentParser, cls: type[C], argv: Sequence[str] | None) -> C:
    """``argv`` through ``parser`` (which has ``--config`` and ``cls``'s flags) as a checked config."""
    args = vars(parser.parse_args(argv))
    return resolve_config(cls, yaml_path=args.pop("config"), flags=args)


# The one vocabulary of every command: a field of these names is this flag, with this meaning, in every command.
DATA_FIELDS = ("data", "data_3d", "data_2d", "val_data", "calib_data", "parity_data")  # datasets to read
METAVARS = {
    **dict.fromkeys(DATA_FIELDS, "NAME=ROOT"),
    "calib_data": "NAME=ROOT|DIR",
    "checkpoint": "FILE",
    "model": "FILE",
    "backbone": "NAME",
    "out": "PATH",
    "json_out": "PATH",
    "markdown_out": "PATH",
    "limb_prior": "JSON",
    "threads": "N",
    "workers": "N",
    "device": "DEVICE",
}
SHARED_HELP = {
    "data": "the dataset to read: NAME=ROOT (the dataset's name, its folder in its own layout) or synthetic",
    "checkpoint": "an mhp checkpoint (.pt), or an original snapshot with --backbone",
    "backbone": "the architecture: LPSKI, LPSKI_LARGE, LPWO, LPRES, RESNET50 (mhp-models lists them)",
    "json_out": "also write the result as JSON to PATH (--json alone or -: JSON on stdout instead of the text)",
    "threads": "CPU threads of the runtime: at most 4 by default, and no more than the usable CPUs",
    "workers": "data-loading processes: no more than the usable CPUs by default",
    "device": "auto, cpu, cuda or cuda:N",
    "limb_prior": "limb-length prior JSON (mhp-data stats); default: measured on the 3D poses at hand",
    "protocol": "Human3.6M protocol: 1 (test S11, rigid-aligned MPJPE) or 2 (test S9 and S11, plain MPJPE)",
    "seed": "random seed: the same seed gives the same result",
    "batch_size": "samples per step",
    "synthetic_samples": "synthetic humans to train or score on",
    "synthetic_val_samples": "held-out synthetic humans to validate on",
    "synthetic_image_size": "side of the synthetic scenes in pixels",
    "out": "where the results go",
    "fast_decode": "big JPEGs decoded at 1/2 or 1/4 scale: faster input, not the original pipeline",
    "width_mult": "channel width multiplier of the LPNet",
    "input_size": "side of the square input crop in pixels",
    "index": "the sample's index in the split",
    "split": "train or test",
    "verbose": "show the native libraries' own log (TensorFlow, LiteRT, XNNPACK); hidden otherwise, its last lines "
    "shown if the command fails",
}


def field_comments(cls: type) -> dict[str, str]:
    """The comment after each field of a config dataclass (``batch_size: int = 64  # per process``), the help text
    of a flag nobody wrote one for: the dataclass stays the single list of options and what they mean."""
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        return {}
    found = (re.match(r"\s+(\w+): [^#]+#\s*(.+)$", line) for line in source.splitlines())
    return {m.group(1): re.sub(r"\s*\((?:reference|spec) §[^)]*\)|``", "", m.group(2)) for m in found if m}


def add_config_arguments(
    parser: argparse.ArgumentParser,
    cls: type,
    *,
    help_text: dict[str, str] | None = None,
    positional: str | None = None,
    choices: dict[str, Sequence[str]] | None = None,
    parsers: dict[str, Callable[[str], Any]] | None = None,
) -> None:
    """One flag per dataclass field; every flag defaults to None so that unset flags do not override YAML. A field
    ``X_out`` is ``--X PATH``, and ``--json`` alone means stdout. The tuple field ``positional`` (e.g. ``mhp-models
    LPSKI LPWO``) is taken from the positional words instead; ``choices`` restrict a flag's words (argparse lists
    them), ``parsers`` read one word in a field's own syntax. The old names of the class's ``DEPRECATED`` fields are
    accepted, hidden from --help (:func:`mhp.config.resolve.renamed_keys` warns and renames them)."""
    types_ = field_types(cls)
    comments = field_comments(cls)
    for f in dataclasses.fields(cls):
        base, _ = unwrap_optional(types_[f.name])
        flags = [flag(f.name.removesuffix("_out"))]
        default = None if has_no_default(f) else f.default_factory() if f.default is dataclasses.MISSING else f.default
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default  # as typed: --threads 1,2
        text = (help_text or {}).get(f.name) or SHARED_HELP.get(f.name) or comments.get(f.name, "")
        text += f" (default: {shown})" if default not in (None, ()) and "(default:" not in text else ""
        words: dict[str, Any] = {"metavar": METAVARS[f.name]} if f.name in METAVARS and base is not bool else {}
        if f.name in (choices or {}):
            words = {"choices": (choices or {})[f.name]}
        if f.name in (parsers or {}):
            words["type"] = (parsers or {})[f.name]
        if f.name == "json_out":
            parser.add_argument(*flags, dest=f.name, nargs="?", const="-", default=None, help=text, **words)
        elif f.name == positional:  # absent from the namespace when no word is given, so YAML still counts
            parser.add_argument(f.name, nargs="*", default=argparse.SUPPRESS, metavar=f.name.upper(), help=text)
        elif base is bool and flags[0].startswith("--no-"):  # argparse would read --no-check as check=False
            parser.add_argument(*flags, dest=f.name, action="store_const", const=True, default=None, help=text)
        elif base is bool:
            parser.add_argument(*flags, dest=f.name, action=argparse.BooleanOptionalAction, default=None, help=text)
        elif typing.get_origin(base) is tuple and "type" not in words:
            parser.add_argument(*flags, dest=f.name, nargs="*", default=None, help=text, **words)
        else:
            parser.add_argument(*flags, dest=f.name, default=None, help=text, **words)
    for old in getattr(cls, "DEPRECATED", {}):
        parser.add_argument(flag(old), dest=old, default=None, help=argparse.SUPPRESS)


class ListRecipes(argparse.Action):
    """``--list-recipes``: print the shipped recipes of one kind and exit."""

    def __init__(
        self, option_strings: list[str], dest: str, kind: str, help: str | None = None, old: str | None = None
    ) -> None:
        super().__init__(option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, nargs=0, help=help)
        self.kind, self.old = kind, old

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option_string: Any = None
    ) -> None:
        if option_string == self.old:
            warn_renamed(option_string, "--list-recipes")
        print(format_recipe_list(self.kind))
        parser.exit()


OLD_RECIPE_FLAGS = {"export": ("--preset", "--list-presets")}  # kept for one release


def warn_renamed(old: str, new: str) -> None:
    print(f"warning: command line: {old} is deprecated (gone in the next release); use {new}", file=sys.stderr)


def add_recipe_arguments(parser: argparse.ArgumentParser, kind: str, config_help: str) -> None:
    """``--config PATH``, or a recipe shipped in the package by name (``--recipe NAME``, which fills ``config``), and
    ``--list-recipes``, which lists the shipped ones."""
    _, flag, list_flag = KINDS[kind]
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--config", help=config_help)
    group.add_argument(
        flag,
        dest="config",
        metavar="NAME",
        type=lambda name: str(recipe_path(kind, name)),
        help=f"a recipe shipped with mhp, by name ({list_flag} shows them)",
    )
    parser.add_argument(list_flag, action=ListRecipes, kind=kind, help=f"list the shipped {flag[2:]}s and exit")
    if kind in OLD_RECIPE_FLAGS:
        old, old_list = OLD_RECIPE_FLAGS[kind]

        def old_recipe(name: str) -> str:
            warn_renamed(old, flag)
            return str(recipe_path(kind, name))

        group.add_argument(old, dest="config", type=old_recipe, help=argparse.SUPPRESS)
        parser.add_argument(old_list, action=ListRecipes, kind=kind, old=old_list, help=argparse.SUPPRESS)
