"""End-to-end training runs on a tiny model: outputs, exact resume after SIGKILL, one-line errors."""

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import mhp
from mhp.cli.train import main
from mhp.config import TrainConfig
from mhp.errors import MhpError
from mhp.train.loop import build_model, train
from tests.train.conftest import tiny_flags

pytestmark = pytest.mark.slow


def csv_rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_a_run_writes_checkpoints_logs_and_says_what_it_trains_on(tiny_config, capsys):
    cfg = tiny_config(amp=True)
    summary = train(cfg)
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("training on synthetic humans (no dataset given): 48 samples per epoch")
    assert "--amp: mixed precision runs on CUDA only, so this run on cpu trains in float32" in err
    assert err[-1].startswith("done: 2 epoch(s)")
    out = Path(cfg.out)
    for name in ("last.pt", "best.pt", "config.yaml", "log.csv"):
        assert (out / name).is_file(), name
    assert any((out / "tensorboard").iterdir())
    rows = csv_rows(out / "log.csv")
    steps = [r for r in rows if r["loss"]]
    assert len(steps) == 2 * 6
    assert all(float(r["images_per_s"]) > 0 for r in steps)
    assert all(r["gpu_peak_mib"] == "" for r in rows)  # CUDA runs only
    assert [r["val_mpjpe_mm"] != "" for r in rows].count(True) == 2
    model = mhp.load_checkpoint(out / "best.pt")
    assert model.model_kwargs["width_mult"] == 0.25
    assert model.joint_set.name == "H36M"
    content = torch.load(out / "last.pt", weights_only=True)
    assert content["config"]["batch_size"] == 8
    assert content["train_state"]["epoch"] == 2
    assert summary["epochs"] == 2
    assert summary["best_val_mpjpe_mm"] > 0


def test_resume_after_sigkill_continues_exactly(tmp_path):
    flags = tiny_flags(epochs=3, save_every_min=1e-6)
    assert main([*flags, "--out", str(tmp_path / "reference")]) == 0
    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "mhp.cli.train", *flags, "--out", str(killed)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # kill it in the middle of its second epoch
        log = killed / "log.csv"
        if log.exists() and len([r for r in csv_rows(log) if r["loss"]]) >= 8:
            break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    state = torch.load(killed / "last.pt", weights_only=True)["train_state"]
    assert (state["epoch"], state["step_in_epoch"]) != (3, 0)  # it really was cut short
    assert main([*flags, "--out", str(killed), "--resume", "auto"]) == 0
    reference = torch.load(tmp_path / "reference" / "last.pt", weights_only=True)
    resumed = torch.load(killed / "last.pt", weights_only=True)
    assert resumed["train_state"]["epoch"] == 3
    for key, value in reference["state_dict"].items():
        assert torch.allclose(resumed["state_dict"][key].float(), value.float(), atol=1e-6), key


def test_one_line_errors(tmp_path, tiny_config, capsys):
    def error(*argv):
        assert main(list(argv)) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        return err

    assert "did you mean LPSKI" in error("--backbone", "LPSK", "--out", str(tmp_path / "a"))
    recipe = tmp_path / "r.yaml"
    recipe.write_text("backbone: LPSKI\nlearning_rate: 0.1\n")
    assert "unknown config key 'learning_rate'" in error("--config", str(recipe))
    assert "h36m root /no/such/dir is not a folder" in error(
        "--data-3d", "h36m=/no/such/dir", "--out", str(tmp_path / "b")
    )
    assert "batch_size must be int, got 'many'" in error("--batch-size", "many")
    train(tiny_config(epochs=1))
    capsys.readouterr()
    assert "already holds a run" in error(*tiny_flags(epochs=1), "--out", str(tmp_path / "run"))
    err = error(*tiny_flags(epochs=2, width_mult=0.5), "--out", str(tmp_path / "run"), "--resume", "auto")
    assert "--width-mult 0.5 differs from the run being resumed" in err  # auto: the run's own config.yaml
    run = tmp_path / "run"
    err = error(*tiny_flags(epochs=2, width_mult=0.5), "--out", str(run), "--resume", str(run / "last.pt"))
    assert "was trained as LPSKI" in err  # a checkpoint named: the model options are compared with it
    assert "same model options" in err


def test_a_non_finite_loss_stops_the_run_and_keeps_the_last_checkpoint(tiny_config, monkeypatch):
    from mhp.errors import MhpError
    from mhp.train import loop

    cfg = tiny_config(epochs=1)
    train(cfg)
    before = (Path(cfg.out) / "last.pt").read_bytes()
    calls = {"n": 0}
    real = loop.integral_l1_loss

    def poisoned(*args):
        calls["n"] += 1
        return real(*args) * (float("nan") if calls["n"] == 3 else 1.0)

    monkeypatch.setattr(loop, "integral_l1_loss", poisoned)
    with pytest.raises(MhpError, match=r"loss became non-finite \(nan here\) at epoch 2 step 2; lower --lr"):
        train(tiny_config(epochs=2, resume="auto"))
    assert (Path(cfg.out) / "last.pt").read_bytes() == before


def test_resnet50_needs_imagenet_weights_unless_random_init_is_asked_for():
    with pytest.raises(MhpError, match=r"pass --imagenet-weights .* or --allow-random-init"):
        build_model(TrainConfig(backbone="RESNET50"), 18, "H36M")
    model = build_model(TrainConfig(backbone="RESNET50", allow_random_init=True), 18, "H36M")
    assert model.model_name == "RESNET50"
    with pytest.raises(MhpError, match="applies to RESNET50 only"):
        build_model(TrainConfig(imagenet_weights="w.pth"), 18, "H36M")
    assert TrainConfig().amp is False  # the original trains in float32; --amp opts in


def test_a_human36m_run_validates_on_its_held_out_slice_and_mhp_eval_says_which_checkpoint(
    synthetic_folders, tiny_config, capsys
):
    from mhp.cli.eval import main as eval_main

    root, _ = synthetic_folders["h36m"]
    cfg = tiny_config(data_3d=(f"h36m={root}",), epochs=1, batch_size=4)
    summary = train(cfg)
    err = capsys.readouterr().err.splitlines()
    validating = next(line for line in err if line.startswith("epoch 1/1: val"))
    assert "h36m held-out recordings (subaction 2, all cameras) S1 Discussion, S5 Discussion" in validating
    assert "not trained on" in validating
    best = torch.load(Path(cfg.out) / "best.pt", weights_only=True)["selection"]
    assert best["file"] == "best.pt"
    assert best["epochs"] == 1
    assert best["chosen"].startswith(
        f"lowest validation MPJPE ({summary['best_val_mpjpe_mm']:.1f} mm) on h36m held-out"
    )
    argv = ["--data", f"h36m={root}", "--workers", "0", "--device", "cpu", "--no-flip-test"]
    assert eval_main(["--checkpoint", str(Path(cfg.out) / "last.pt"), *argv]) == 0
    assert "checkpoint: last.pt after 1 epoch, the latest" in capsys.readouterr().out.splitlines()[1]
