"""The command line of every command: one flag per field of its config dataclass (``batch_size`` ->
``--batch-size``), so the dataclass is the single list of options; ``--config PATH`` or a shipped recipe by name;
parsing ends in :func:`mhp.config.resolve.resolve_config` (defaults < YAML < flags)."""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import re
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
            known = sorted(
                {o for parser in parsers for a in parser._actions for o in a.option_strings if o.startswith("--")}
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


def add_config_arguments(
    parser: argparse.ArgumentParser,
    cls: type,
    *,
    help_text: dict[str, str] | None = None,
    flag_names: dict[str, list[str]] | None = None,
    positional: str | None = None,
    choices: dict[str, Sequence[str]] | None = None,
    parsers: dict[str, Callable[[str], Any]] | None = None,
) -> None:
    """One flag per dataclass field; every flag defaults to None so that unset flags do not override YAML. The
    tuple field ``positional`` (e.g. ``mhp-models LPSKI LPWO``) is taken from the positional words instead;
    ``choices`` restrict a flag's words (argparse lists them), ``parsers`` read one word in a field's own syntax."""
    types_ = field_types(cls)
    for f in dataclasses.fields(cls):
        base, _ = unwrap_optional(types_[f.name])
        flags = (flag_names or {}).get(f.name, [flag(f.name)])
        default = None if has_no_default(f) else f.default_factory() if f.default is dataclasses.MISSING else f.default
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default  # as typed: --threads 1,2
        text = (help_text or {}).get(f.name, "") + (f" (default: {shown})" if default not in (None, ()) else "")
        words = {"choices": (choices or {})[f.name]} if f.name in (choices or {}) else {}
        if f.name in (parsers or {}):
            words["type"] = (parsers or {})[f.name]
        if f.name == positional:  # absent from the namespace when no word is given, so YAML still counts
            parser.add_argument(f.name, nargs="*", default=argparse.SUPPRESS, metavar=f.name.upper(), help=text)
        elif base is bool and flags[0].startswith("--no-"):  # argparse would read --no-check as check=False
            parser.add_argument(*flags, dest=f.name, action="store_const", const=True, default=None, help=text)
        elif base is bool:
            parser.add_argument(*flags, dest=f.name, action=argparse.BooleanOptionalAction, default=None, help=text)
        elif typing.get_origin(base) is tuple and "type" not in words:
            parser.add_argument(*flags, dest=f.name, nargs="*", default=None, help=text, **words)
        else:
            parser.add_argument(*flags, dest=f.name, default=None, help=text, **words)


class ListRecipes(argparse.Action):
    """``--list-recipes`` / ``--list-presets``: print the shipped recipes of one kind and exit."""

    def __init__(self, option_strings: list[str], dest: str, kind: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, nargs=0, help=help)
        self.kind = kind

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option_string: Any = None
    ) -> None:
        print(format_recipe_list(self.kind))
        parser.exit()


def add_recipe_arguments(parser: argparse.ArgumentParser, kind: str, config_help: str) -> None:
    """``--config PATH``, or a recipe shipped in the package by name (``--recipe`` for training, ``--preset`` for
    export; both fill ``config``), and the flag that lists the shipped ones."""
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
