"""``results.png``: per-epoch curves read from ``log.csv``, rewritten at every epoch end, never fatal."""

import csv
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from mhp.cli.train import main
from mhp.train import run as run_module
from mhp.train.curves import epoch_curves, write_results_png
from mhp.train.log import CSV_FIELDS
from tests.train.conftest import tiny_flags

POSE = tiny_flags(max_steps_per_epoch=2)
LIFT = ["--task", "lift", "--lift-width", "32", "--synthetic-samples", "256", "--synthetic-val-samples", "50"]
LIFT += ["--batch-size", "64", "--epochs", "2", "--max-steps-per-epoch", "3", "--device", "cpu", "--log-every", "1"]


def test_epoch_curves_average_each_epochs_step_losses_and_take_its_validation(tmp_path):
    # Mutations tried in mhp/train/curves.py, each fails this test: averaging the step losses of all epochs
    # together ([1.6, 1.6] instead of [2.0, 1.0]); an epoch's last logged loss instead of its mean ([3.0, 1.5]);
    # keeping the row a kill cut short (a third epoch appears, loss 100).
    log = tmp_path / "log.csv"
    rows = [
        {"epoch": 1, "step": 1, "loss": 1.0, "loss_geo": 9.0},
        {"epoch": 1, "step": 2, "loss": 2.0},
        {"epoch": 1, "step": 3, "loss": 3.0},
        {"epoch": 1, "step": 3, "val_mpjpe_mm": 100.0},
        {"epoch": 2, "step": 4, "loss": 0.5},
        {"epoch": 2, "step": 5, "loss": 1.5},
        {"epoch": 2, "step": 5, "val_mpjpe_mm": 80.0},
    ]
    with open(log, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows({k: row.get(k, "") for k in CSV_FIELDS} for row in rows)
        f.write("1700000000.0,2023-11-14T22:13:20.000Z,3,6,0.001,100.0,,,12.5,")  # cut before its line end
    curves = epoch_curves(log)
    assert set(curves) == {"epoch", "loss", "val_mpjpe_mm"}
    np.testing.assert_array_equal(curves["epoch"], [1, 2])
    np.testing.assert_array_equal(curves["loss"], [2.0, 1.0])
    np.testing.assert_array_equal(curves["val_mpjpe_mm"], [100.0, 80.0])
    drawn = write_results_png(log, tmp_path / "results.png", "hand-written")
    assert drawn.keys() == curves.keys()
    for key, value in curves.items():
        np.testing.assert_array_equal(drawn[key], value, err_msg=key)


def logged_per_epoch(path: Path) -> dict[str, list[float]]:
    """What the test expects, read straight from ``log.csv``: mean step loss and validation values by epoch."""
    with open(path) as f:
        rows = list(csv.DictReader(f))
    epochs = sorted({int(r["epoch"]) for r in rows})
    expected = {
        "epoch": epochs,
        "loss": [np.mean([float(r["loss"]) for r in rows if int(r["epoch"]) == e and r["loss"]]) for e in epochs],
    }
    for column in (c for c in rows[0] if c.startswith("val_")):
        values = {int(r["epoch"]): float(r[column]) for r in rows if r[column]}
        if values:
            expected[column] = [values[e] for e in epochs]
    return expected


@pytest.mark.parametrize(
    ("flags", "val_columns"),
    [(POSE, {"val_mpjpe_mm"}), (LIFT, {"val_mpjpe_mm", "val_n_mpjpe_mm", "val_pa_mpjpe_mm"})],
    ids=["pose", "lift"],
)
def test_a_run_rewrites_results_png_at_every_epoch_from_its_log(tmp_path, monkeypatch, capsys, flags, val_columns):
    drawn = []

    def recording(*args):
        drawn.append(write_results_png(*args))
        return drawn[-1]

    monkeypatch.setattr(run_module, "write_results_png", recording)
    out = tmp_path / "run"
    assert main([*flags, "--out", str(out)]) == 0
    assert "warning" not in capsys.readouterr().err
    image = cv2.imread(str(out / "results.png"))
    assert image is not None
    assert image.shape == (400, 1000, 3)
    assert [list(d["epoch"]) for d in drawn] == [[1], [1, 2]]  # one picture per epoch, each with the epochs so far
    expected = logged_per_epoch(out / "log.csv")
    assert set(drawn[-1]) == {"epoch", "loss", *val_columns} == set(expected)
    for key, value in expected.items():
        np.testing.assert_allclose(drawn[-1][key], value, rtol=1e-12, err_msg=key)
    assert not list(out.glob(".results.png.*"))  # written atomically: no temporary file left


def fail_to_draw(*args):
    raise RuntimeError("the plotter broke\non two lines")


@pytest.mark.parametrize("failure", ["matplotlib missing", "drawing raises"])
def test_a_failure_to_draw_is_one_warning_and_training_completes(tmp_path, monkeypatch, capsys, failure):
    if failure == "matplotlib missing":
        monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # its import now fails, as when not installed
    else:
        monkeypatch.setattr(run_module, "write_results_png", fail_to_draw)
    out = tmp_path / "run"
    assert main([*POSE, "--out", str(out)]) == 0
    err = capsys.readouterr().err.splitlines()
    warnings = [line for line in err if line.startswith("warning: results.png not written")]
    reason = "matplotlib is not installed" if failure == "matplotlib missing" else "the plotter broke on two lines"
    assert len(warnings) == 1, err  # told once, not at every epoch
    assert reason in warnings[0]
    assert err[-1].startswith("done: 2 epoch(s)")
    assert (out / "best.pt").is_file()
    assert not (out / "results.png").exists()
