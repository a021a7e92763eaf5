"""Fuzzed YAML configs and command lines: a config of the declared types and ranges, or one clear error."""

import argparse
import dataclasses
import math
import types
import typing
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from mhp.cli import bench, data, eval, export, infer, models, train
from mhp.config import commands, data_commands
from mhp.config.resolve import resolve_config
from mhp.errors import MhpError
from tests.fuzz.harness import JSON_VALUES, FileSwap, damaged, fast_folder, mutated, outcome

ROOT = Path(__file__).parents[2]
RECIPES = sorted((ROOT / "mhp" / "config" / "recipes").glob("*/*.yaml"))  # shipped training recipes, presets
assert len(RECIPES) > 20, "the recipes moved: point RECIPES at them"
CLASSES = [
    c
    for module in (commands, data_commands)
    for c in vars(module).values()
    if dataclasses.is_dataclass(c) and c.__module__ == module.__name__
]
assert len(CLASSES) == 11, "one config dataclass per command"
COMMANDS = {"data": data, "models": models, "eval": eval, "export": export, "bench": bench, "infer": infer}
COMMANDS["train"] = train
# Independent of mhp/config/checks.py's rules: what the commands need at the very least.
AT_LEAST_ONE = {"batch_size", "epochs", "samples", "runs", "repeats", "calib_samples", "parity_samples"}
POSITIVE = {"lr", "width_mult", "focal", "root_depth"}


def check_config(cfg) -> None:
    """Every field holds its declared type (floats finite), and the basic ranges hold."""
    hints = typing.get_type_hints(type(cfg))
    for f in dataclasses.fields(cfg):
        check_value(getattr(cfg, f.name), hints[f.name], f.name)
        value = getattr(cfg, f.name)
        if f.name in AT_LEAST_ONE and value is not None:
            assert value >= 1, f.name
        if f.name in POSITIVE and value is not None:
            assert value > 0, f.name
    if hasattr(cfg, "fov"):
        assert 1 <= cfg.fov < 180


def check_value(value, hint, name: str) -> None:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            assert type(None) in args, name
            return
        hint = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple:
        assert isinstance(value, tuple), name
        for item in value:
            check_value(item, args[0], name)
        return
    assert type(value) is hint, f"{name}: {value!r} is not {hint}"
    if hint is float:
        assert math.isfinite(value), name


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return fast_folder(tmp_path_factory, "fuzz-configs")


def yaml_text(tree) -> bytes:
    return yaml.safe_dump(tree, allow_unicode=False).encode("utf-8")


RECIPE_TREES = [yaml.safe_load(p.read_text()) for p in RECIPES]
YAML_FILES = st.one_of(
    st.sampled_from(RECIPE_TREES).flatmap(mutated).map(yaml_text),
    st.sampled_from(RECIPE_TREES).flatmap(mutated).map(yaml_text),
    st.sampled_from([p.read_bytes() for p in RECIPES]).flatmap(damaged),
    st.dictionaries(st.sampled_from([f.name for c in CLASSES for f in dataclasses.fields(c)]), JSON_VALUES).map(
        yaml_text
    ),
    st.text(alphabet=":-[]{}!&*#|>'\"%@`,?\n 0123456789abcdefxyz.", max_size=80).map(str.encode),
)


def test_yaml_configs(folder):
    """``--config`` files: arbitrary and mutated YAML, resolved as every command's config."""
    path = folder / "config.yaml"
    path.write_text("")
    with FileSwap(path) as swap:

        @given(YAML_FILES, st.sampled_from(CLASSES))
        def run(data: bytes, cls) -> None:
            swap.put(data)
            outcome(
                "YAML config (load_yaml + resolve_config)",
                lambda: resolve_config(cls, yaml_path=str(path)),
                check_config,
            )

        run()


def flags_of(parser: argparse.ArgumentParser) -> list[str]:
    exits = ("-h", "--help", "--list-recipes", "--list-presets")  # and the old name of --list-recipes
    return [s for a in parser._actions for s in a.option_strings if s not in exits]


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    found = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(found[0].choices) if found else {}


VALUES = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.floats().map(str),
    st.sampled_from(["0", "-1", "-3", "7", "nan", "inf", "-inf", "1e999", "1,2", "1,,-2", "true", "no", "", "x"]),
    st.sampled_from(["LPSKI", "h36m", "synthetic", "onnx", "tflite", "int8", "fp16", "all", "cpu", "auto"]),
    st.sampled_from(["quickstart_synthetic", "lpski_h36m_p2", "lift_mpii_2d", "mobile", "tflite_int8"]),
    st.sampled_from(["1" * 5000, "--", "-", "=", "9" * 30]),
    st.text(max_size=10),
)


REQUIRED_FIELDS = {f.name for c in CLASSES for f in dataclasses.fields(c) if f.default is dataclasses.MISSING}


def required_actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """Options argparse requires, and those whose config field has no default (checked after parsing)."""
    return [a for a in parser._actions if a.option_strings and (a.required or a.dest in REQUIRED_FIELDS)]


def plausible_value(action: argparse.Action) -> st.SearchStrategy[str]:
    if action.choices:
        return st.sampled_from(sorted(map(str, action.choices)))
    return st.sampled_from(["0", "1", "runs/fuzz"]) if action.type is int else st.sampled_from(["runs/fuzz", "x.pt"])


@st.composite
def argvs(draw: st.DrawFn, parser: argparse.ArgumentParser, config_files: list[str]) -> list[str]:
    """A command line of the parser's real flags, each followed by 0-2 values, with some junk tokens."""
    words = []
    sub = subcommands(parser)
    if sub:
        name = draw(st.sampled_from(sorted(sub)) | st.text(max_size=6))
        words.append(name)
        parser = sub.get(name, parser)
    flags = flags_of(parser) or ["--data"]  # a junk subcommand: the top-level parser has no flags
    if draw(st.booleans()):  # half the command lines start with valid required options, so configs get built
        for action in required_actions(parser):
            words += [action.option_strings[0], draw(plausible_value(action))]
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            words.append(draw(st.text(max_size=8)))
            continue
        flag = draw(st.sampled_from(flags))
        words.append(flag)
        if flag == "--config":
            words.append(draw(st.sampled_from(config_files)))
            continue
        words += draw(st.lists(VALUES, max_size=2))
    return [w for w in words if not exits_by_design(w)]


def exits_by_design(word: str) -> bool:
    """--help, --list-recipes and --list-presets (or a prefix argparse expands to one) print and exit 0."""
    listing = len(word) >= len("--lis") and any(flag.startswith(word) for flag in ("--list-recipes", "--list-presets"))
    return word.startswith(("-h", "--h")) or listing


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_command_line(command, folder):
    """Every command's flags with arbitrary values: argparse's usage error, mhp's error, or a checked config."""
    module = COMMANDS[command]
    parser = module.build_parser()
    config_files = [str(p) for p in RECIPES[:3]] + [str(folder / "missing.yaml")]

    def parse(argv: list[str]):
        try:
            return module.parse_config(argv)
        except SystemExit as exc:
            code = exc.code
        assert code == 2, argv  # argparse: usage and one error line on stderr
        raise MhpError("argparse usage error")

    @given(argvs(parser, config_files))
    def run(argv: list[str]) -> None:
        outcome(f"mhp-{command} arguments", lambda: parse(argv), check_config)

    run()
