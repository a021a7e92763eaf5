"""``mhp-data``: synth, check, inspect and show from the command line."""

import json

import cv2

from mhp.cli.data import main


def test_synth_check_inspect_show(tmp_path, capsys):
    root = tmp_path / "mupots"
    assert main(["synth", "--format", "mupots", "--out", str(root), "--sequences", "2", "--frames", "2"]) == 0
    assert "annotated people" in capsys.readouterr().out
    assert main(["check", "--data", f"mupots={root}"]) == 0
    assert "no problems found" in capsys.readouterr().out
    assert main(["inspect", "--data", f"mupots={root}", "--split", "test", "--index", "1", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["index"] == 1
    assert len(record["joints_cam"]) == 17
    assert record["sequence"] in ("TS1", "TS2")
    assert set(record) >= {
        "image_path",
        "bbox_raw",
        "bbox",
        "joints_img",
        "joints_cam",
        "root_cam",
        "focal",
        "principal",
    }
    out = tmp_path / "grid.png"
    assert main(["show", "--data", "synthetic", "--samples", "6", "--out", str(out)]) == 0
    grid = cv2.imread(str(out))
    assert grid.shape == (2 * 256 + 3 * 4, 4 * 256 + 5 * 4, 3)


def test_h36m_synth_options(tmp_path, capsys):
    root = tmp_path / "h36m"
    args = [
        "synth",
        "--format",
        "h36m",
        "--out",
        str(root),
        "--actions",
        "2",
        "--cameras",
        "1",
        "--frames",
        "1",
        "--image-size",
        "320x240",
    ]
    assert main(args) == 0
    assert len(list((root / "images").rglob("*.jpg"))) == 7 * 2  # 7 subjects x 2 subactions
    assert cv2.imread(str(next((root / "images").rglob("*.jpg")))).shape == (240, 320, 3)


def test_errors_are_one_line(tmp_path, capsys):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("precious")
    assert main(["synth", "--format", "mpii", "--out", str(tmp_path / "full")]) == 1
    assert "not empty" in capsys.readouterr().err
    assert (tmp_path / "full" / "keep.txt").read_text() == "precious"
    assert main(["synth", "--format", "mpii", "--out", str(tmp_path / "x"), "--subjects", "1"]) == 1
    assert "--subjects does not apply to --format mpii" in capsys.readouterr().err
    assert main(["check", "--data", f"h36m={tmp_path / 'none'}"]) == 1
    assert "PROBLEM" in capsys.readouterr().out
    assert main(["inspect", "--data", f"mpii={tmp_path / 'none'}", "--split", "train", "--index", "0"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: mpii root")
    assert err.count("\n") == 1
    assert main(["show", "--data", "mpii", "--out", str(tmp_path / "g.png")]) == 1
    assert "--data mpii: give the dataset's folder, --data mpii=ROOT" in capsys.readouterr().err
