"""``mhp-models``: the table, its JSON/Markdown files, and one-line errors."""

import json

from mhp.cli.models import main
from mhp.util.cpus import runtime_threads


def test_table_and_files(tmp_path, capsys):
    out_json, out_md = tmp_path / "cards.json", tmp_path / "cards.md"
    code = main(["lpski", "LPSKI_LARGE", "--repeats", "1", "--json", str(out_json), "--markdown", str(out_md)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "LPSKI" in printed
    assert "3,500,064" in printed
    assert "18×32×32×32" in printed
    cards = json.loads(out_json.read_text())["cards"]
    assert [c["name"] for c in cards] == ["LPSKI", "LPSKI_LARGE"]
    assert cards[1]["params"] == 3_648_096
    markdown = out_md.read_text()
    assert "| LPSKI_LARGE | 18 | prelu | 3,648,096 |" in markdown
    threads = runtime_threads()  # recorded always: its default follows the machine
    assert f"Command: `mhp-models LPSKI LPSKI_LARGE --repeats 1 --threads {threads}`" in markdown


def test_activation_and_joints_flags(capsys):
    assert main(["LPSKI", "--repeats", "1", "--num-joints", "21", "--activation", "relu"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("LPSKI"))
    assert "relu" in row
    assert "21×32×32×32" in row


def test_unknown_model_is_one_line_with_a_suggestion(capsys):
    assert main(["LPSKY"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: unknown model 'LPSKY'; did you mean LPSKI")
    assert err.count("\n") == 1


def test_bad_numbers_are_refused(capsys):
    assert main(["LPSKI", "--repeats", "0"]) == 1
    assert "--repeats" in capsys.readouterr().err


def test_lifters_are_not_image_model_cards(capsys):
    assert main(["LIFT_MLP"]) == 1
    assert "mhp-models measures image models; LIFT_MLP lifts 2D joints" in capsys.readouterr().err
