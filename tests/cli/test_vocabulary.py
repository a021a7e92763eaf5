"""One vocabulary across the commands (issue 25, trial 8): the same concept is the same flag, with the same kind of
value, in the --help of every command; outputs default under runs/<command>; the old spellings still work for one
release, each with a warning naming the new one."""

import argparse
import re
from pathlib import Path

import pytest
import yaml

from mhp.cli import bench, data, eval, export, infer, models, train
from mhp.config import (
    BenchConfig,
    ExportConfig,
    InferConfig,
    ModelsConfig,
    ShowConfig,
    StatsConfig,
    SynthConfig,
    TrainConfig,
)
from mhp.config.recipes import recipe_path
from mhp.errors import MhpError
from mhp.export.pipeline import export_folder
from mhp.util.cpus import runtime_threads


def parsers() -> dict[str, argparse.ArgumentParser]:
    found = {
        f"mhp-{m.__name__.rsplit('.', 1)[1]}": m.build_parser() for m in (bench, eval, export, infer, models, train)
    }
    top = data.build_parser()
    (sub,) = [a for a in top._actions if isinstance(a, argparse._SubParsersAction)]
    found.update({f"mhp-data {name}": parser for name, parser in sub.choices.items()})
    return found


def visible_options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """Every --flag that --help shows."""
    return {
        s: a for a in parser._actions if a.help != argparse.SUPPRESS for s in a.option_strings if s.startswith("--")
    }


COMMANDS = parsers()
TABLE: dict[str, dict[str, argparse.Action]] = {}
for _command, _parser in COMMANDS.items():
    for _flag, _action in visible_options(_parser).items():
        TABLE.setdefault(_flag, {})[_command] = _action

# What the trials found, each a second name for a concept another command spells otherwise.
RETIRED = {
    "--dataset": "--data NAME=ROOT",
    "--root": "--data NAME=ROOT",
    "--data-root": "--data NAME=ROOT",
    "--calib": "--calib-data",
    "--preset": "--recipe",
    "--list-presets": "--list-recipes",
    "--count": "--samples",
}
DATA_FLAGS = {"--data", "--data-3d", "--data-2d", "--val-data", "--calib-data", "--parity-data"}
LISTS = {("--threads", "mhp-bench")}  # bench measures a list of thread counts; the others run with one


def takes(action: argparse.Action) -> str:
    """The kind of value a flag takes: none (a switch), one, an optional one or a list."""
    if action.nargs == 0:
        return "switch"
    return {None: "one", "?": "optional", "*": "list", "+": "list"}[action.nargs]


def test_trial_8_no_command_shows_a_retired_spelling():
    shown = {flag: sorted(TABLE[flag]) for flag in RETIRED if flag in TABLE}
    assert shown == {}
    assert "--model" not in TABLE or set(TABLE["--model"]) == {"mhp-infer"}  # eval and export: --backbone
    assert set(TABLE["--device"]) == {"mhp-train", "mhp-eval"}  # a torch device; bench's phone is --phone


def test_trial_8_a_flag_shared_by_commands_takes_the_same_kind_of_value_everywhere():
    differing = {}
    for flag, actions in TABLE.items():
        kinds = {(takes(a), a.metavar) for command, a in actions.items() if (flag, command) not in LISTS}
        if len(kinds) > 1:
            differing[flag] = {command: (takes(a), a.metavar) for command, a in actions.items()}
    assert differing == {}
    assert {takes(a) for a in TABLE["--json"].values()} == {"optional"}  # a path, or alone: JSON on stdout
    assert {a.metavar for a in TABLE["--backbone"].values()} == {"NAME"}  # an architecture everywhere
    assert len(TABLE["--backbone"]) == 3  # train, eval, export
    assert len(TABLE["--data"]) >= 6


def test_trial_8_every_dataset_to_read_is_name_equals_root():
    for flag, actions in TABLE.items():
        for command, action in actions.items():
            reads_a_dataset = "NAME=ROOT" in str(action.metavar) or "NAME=ROOT" in str(action.help)
            assert reads_a_dataset == (flag in DATA_FLAGS), (command, flag)
            if flag in DATA_FLAGS:
                assert str(action.metavar).startswith("NAME=ROOT"), (command, flag)


def test_trial_8_outputs_default_under_runs_slash_the_command():
    assert TrainConfig().out == "runs/train"
    assert InferConfig().out == "runs/infer"
    assert BenchConfig().out == "runs/bench"
    assert export_folder(ExportConfig(checkpoint="elsewhere/lpski_h36m/best.pt")) == Path("runs/export/lpski_h36m")
    assert export_folder(ExportConfig(checkpoint="x.pt", out="mine")) == Path("mine")
    assert SynthConfig(format="h36m").out_folder == "runs/data/h36m"
    assert ShowConfig(data="synthetic").out.startswith("runs/data/")
    assert StatsConfig(data="synthetic").out.startswith("runs/data/")


def test_trial_8_thread_defaults_are_one_rule():
    single = {InferConfig().threads, ExportConfig().threads, ModelsConfig().threads}
    assert single == {runtime_threads()}
    assert 1 <= runtime_threads() <= 4
    assert BenchConfig().threads == tuple(sorted({1, runtime_threads()}))


def test_trial_8_help_is_written_for_users():
    unexplained = {
        (command, flag)
        for flag, actions in TABLE.items()
        for command, action in actions.items()
        if not re.sub(r"\(default: [^)]*\)", "", action.help or "").strip()
    }
    assert unexplained == set()  # every flag says what it is for
    for command, parser in COMMANDS.items():
        text = parser.format_help()
        for internal in ("``", "§", "(default: ()", "(1, 2)", "spec section", "reference §"):
            assert internal not in text, (command, internal)


@pytest.mark.parametrize(
    ("module", "argv", "expected", "warning"),
    [
        (eval, ["--checkpoint", "x.pt", "--dataset", "h36m", "--root", "/d"], {"data": "h36m=/d"}, "--dataset"),
        (eval, ["--checkpoint", "x.pt", "--model", "LPSKI"], {"backbone": "LPSKI"}, "--model"),
        (bench, ["--data", "h36m", "--data-root", "/d"], {"data": "h36m=/d"}, "--data-root"),
        (bench, ["--device", "android"], {"phone": "android"}, "--device"),
        (
            export,
            ["--calib", "synthetic", "--model", "LPWO"],
            {"calib_data": "synthetic", "backbone": "LPWO"},
            "--calib",
        ),
        (export, ["--preset", "mobile"], {"target": "tflite", "precision": ("fp32", "int8")}, "--preset"),
        (data, ["show", "--dataset", "synthetic", "--count", "4"], {"data": "synthetic", "samples": 4}, "--count"),
        (data, ["stats", "--dataset", "muco", "--root", "/m"], {"data": "muco=/m"}, "--root"),
    ],
)
def test_trial_8_old_spellings_work_for_one_release_with_a_warning(module, argv, expected, warning, capsys):
    cfg = module.parse_config(argv)
    assert {key: getattr(cfg, key) for key in expected} == expected
    lines = capsys.readouterr().err.splitlines()
    assert any(line.startswith(f"warning: command line: {warning} is deprecated (gone in the next release); use --")
               for line in lines), lines  # fmt: skip


def test_trial_8_old_keys_in_a_yaml_config_are_renamed_too(tmp_path, capsys):
    path = tmp_path / "eval.yaml"
    path.write_text(yaml.safe_dump({"checkpoint": "x.pt", "dataset": "mupots", "root": "/m"}))
    assert eval.parse_config(["--config", str(path)]).data == "mupots=/m"
    err = capsys.readouterr().err
    assert f"warning: {path}: dataset is deprecated (gone in the next release); use data NAME=ROOT" in err


@pytest.mark.parametrize(
    ("module", "argv", "message"),
    [
        (
            export,
            ["--calib", "a", "--calib-data", "b"],
            "--calib is the old name of --calib-data; give --calib-data only",
        ),
        (eval, ["--checkpoint", "x.pt", "--root", "/d"], "--root /d: name its dataset, --data NAME=/d"),
        (eval, ["--checkpoint", "x.pt", "--data", "h36m=/a", "--root", "/d"], "--root /d: name its dataset"),
    ],
)
def test_trial_8_an_old_spelling_that_cannot_be_read_one_way_is_refused(module, argv, message, capsys):
    with pytest.raises(MhpError, match=message):
        module.parse_config(argv)


def test_trial_8_the_old_list_flag_still_lists(capsys):
    with pytest.raises(SystemExit) as done:
        export.parse_config(["--list-presets"])
    assert done.value.code == 0
    captured = capsys.readouterr()
    assert "mobile" in captured.out
    assert "--list-presets is deprecated (gone in the next release); use --list-recipes" in captured.err
    assert recipe_path("export", "mobile").is_file()
