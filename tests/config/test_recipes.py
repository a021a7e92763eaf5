"""The shipped recipes and presets: found by name from the package, listed, suggested when misspelt, and the same
configs through --recipe as through --config with their files."""

import pytest

from mhp.cli import export as export_cli
from mhp.cli import train as train_cli
from mhp.cli.quickstart import parse_config as parse_quickstart
from mhp.config.recipes import FOLDER, format_recipe_list, recipe_names, recipe_path, recipe_summary
from mhp.config.resolve import config_dict
from mhp.errors import MhpError

PAPER = [
    f"{m}_{d}" for m in ("lpski", "lpski_large", "lpwo", "lpres", "resnet50") for d in ("h36m_p1", "h36m_p2", "muco")
]


def test_every_paper_recipe_and_preset_ships_inside_the_package():
    extra = {"quickstart_synthetic", "lift_h36m_3d", "lift_mpii_2d", "lpski_h36m_p2_geo"}
    assert set(PAPER) | extra == set(recipe_names("train"))
    assert recipe_names("export") == ["all", "mobile", "tflite_int8"]
    path = recipe_path("train", "lpski_h36m_p2")
    assert path == FOLDER / "train" / "lpski_h36m_p2.yaml"
    assert path.is_relative_to(FOLDER.parent)  # inside mhp/, so the wheel carries it


def test_a_name_is_the_same_config_as_its_file():
    for name in recipe_names("train"):
        by_name = train_cli.parse_config(["--recipe", name, "--epochs", "3"])
        by_file = train_cli.parse_config(["--config", str(recipe_path("train", name)), "--epochs", "3"])
        assert config_dict(by_name) == config_dict(by_file)
        assert by_name.epochs == 3  # flags still override the recipe
    mobile = export_cli.parse_config(["--recipe", "mobile", "--checkpoint", "x.pt"])
    assert (mobile.target, mobile.precision) == ("tflite", ("fp32", "int8"))
    assert parse_quickstart(["--out", "elsewhere"]).out == "elsewhere"
    assert parse_quickstart([]).input_size == 128  # the shipped quickstart recipe
    assert parse_quickstart(["--recipe", "lpski_h36m_p2"]).backbone == "LPSKI"


def test_unknown_names_suggest_the_closest_and_never_touch_the_file_system():
    with pytest.raises(MhpError, match=r"--recipe 'lpski_h36m': no such shipped recipe; did you mean lpski_h36m_p2"):
        recipe_path("train", "lpski_h36m")
    with pytest.raises(MhpError, match=r"--recipe 'zzz': .*--list-recipes shows the 3 there are"):
        recipe_path("export", "zzz")
    for hostile in ("../train/lpski_h36m_p2", "x" * 5000, "", "mobile.yaml", "/etc/passwd"):
        with pytest.raises(MhpError, match="no such shipped recipe") as error:
            recipe_path("export", hostile)
        assert len(str(error.value)) < 200


def test_listing_names_every_recipe_with_what_sets_it_apart(capsys):
    lines = format_recipe_list("train").splitlines()
    assert [line.split()[0] for line in lines] == recipe_names("train")
    assert recipe_summary("train", "lpski_h36m_p2") == ("backbone=LPSKI data_3d=h36m data_2d=mpii protocol=2 epochs=25")
    assert recipe_summary("export", "mobile") == "target=tflite precision=fp32+int8"
    with pytest.raises(SystemExit) as done:
        train_cli.parse_config(["--list-recipes"])
    assert done.value.code == 0
    assert capsys.readouterr().out.splitlines() == lines
    with pytest.raises(SystemExit) as done:
        export_cli.parse_config(["--list-recipes"])
    assert done.value.code == 0
    assert "mobile" in capsys.readouterr().out


def test_a_recipe_and_a_config_file_together_are_a_usage_error(capsys):
    with pytest.raises(SystemExit) as done:
        train_cli.parse_config(["--recipe", "lpski_h36m_p2", "--config", "x.yaml"])
    assert done.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
    assert train_cli.main(["--recipe", "nope"]) == 1
    assert "error: --recipe 'nope': no such shipped recipe" in capsys.readouterr().err
