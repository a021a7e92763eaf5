"""``mhp-data``: synth, check, inspect and show from the command line."""

import json

import cv2
import numpy as np

from mhp.cli.data import main
from mhp.data.dataset import CropConfig, PoseDataset
from mhp.data.synthetic import SyntheticHumans
from mhp.skeleton import H36M


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
    assert_targets_drawn_on_their_tiles(grid, samples=6, seed=0)


def assert_targets_drawn_on_their_tiles(grid, samples, seed):
    """Each tile's visible target joints carry their dot: the same samples drawn again from a fresh dataset, voxel
    x, y scaled by patch / heatmap (reference §5) to the tile's pixels (the test once checked only the grid's
    shape). Mutation tried: drawing the joints in heatmap pixels (no scale) in mhp.data.show fails it."""
    dataset = PoseDataset(
        SyntheticHumans(samples, joint_set=H36M, seed=seed), H36M, CropConfig(), train=True, seed=seed
    )
    picked = sorted(int(i) for i in np.random.default_rng(seed).choice(samples, size=samples, replace=False))
    colours = {"L": (60, 90, 255), "R": (255, 140, 40)}  # BGR, as the README's picture legend: left warm
    hits = []
    for k, index in enumerate(picked):
        sample = dataset[index]
        row, column = divmod(k, 4)
        tile = grid[4 + row * 260 : 4 + row * 260 + 256, 4 + column * 260 : 4 + column * 260 + 256].astype(int)
        points = np.round(sample["joints"].numpy()[:, :2] * 256 / 32).astype(int)
        for (x, y), name, visible in zip(points, H36M.joints, sample["vis"].numpy()[:, 0], strict=True):
            if visible > 0 and name[:2] in ("L_", "R_") and 0 <= x < 256 and 0 <= y < 256:
                hits.append(np.abs(tile[y, x] - colours[name[0]]).max() <= 2)
    assert len(hits) >= 30
    assert np.mean(hits) >= 0.8  # a dot drawn later may cover a close one


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
