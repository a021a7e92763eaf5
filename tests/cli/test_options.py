"""Flags over YAML over defaults, and boolean flags whose own name starts with --no-."""

import pytest

from mhp.cli.export import parse_config as export_config
from mhp.cli.train import parse_config as train_config
from mhp.errors import MhpError


def test_a_flag_named_no_something_turns_it_on():
    assert export_config(["--checkpoint", "c.pt"]).no_check is False
    assert export_config(["--checkpoint", "c.pt", "--no-check"]).no_check is True
    with pytest.raises(SystemExit):
        export_config(["--no-no-check"])


def test_other_booleans_have_both_forms_and_flags_override_yaml(tmp_path):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("amp: false\nepochs: 3\n")
    assert train_config(["--config", str(recipe)]).amp is False
    assert train_config(["--config", str(recipe), "--amp"]).amp is True
    assert train_config(["--no-amp"]).amp is False
    assert train_config(["--config", str(recipe), "--epochs", "7"]).epochs == 7
    with pytest.raises(MhpError, match="--epochs must be at least 1, got 0"):
        train_config(["--epochs", "0"])
