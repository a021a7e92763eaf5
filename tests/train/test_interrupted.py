"""Training killed at random moments (some while a checkpoint is being written): every file in the run folder
stays complete, ``--resume auto`` continues from the last checkpoint, and the finished run's log.csv has each
step once."""

import csv
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from mhp.models.checkpoint import read_checkpoint
from mhp.train.log import CSV_FIELDS, trim_log
from tests.train.conftest import tiny_flags

SEED = 20_260_311
KILLS = 20
EPOCHS, STEPS = 6, 12  # 72 optimiser steps; a checkpoint after every step (save_every_min is 6 ms)
MAX_STEPS_PER_TRIAL = 3  # 20 kills advance the run by well under 72 steps whatever the machine's speed
FLAGS = tiny_flags(
    synthetic_samples=2 * STEPS,  # batch 2: exactly STEPS steps per epoch
    synthetic_val_samples=4,
    batch_size=2,
    epochs=EPOCHS,
    max_steps_per_epoch=STEPS,
    save_every_min=1e-4,
)
RUN_FILES = {
    "last.pt",
    "best.pt",
    "config.yaml",
    "log.csv",
    "results.png",
    "tensorboard",
    ".mhp-train.lock",
}  # the lock: the folder is one run's
HEADER = ",".join(CSV_FIELDS)


def start_training(out: Path, stderr: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "mhp.cli.train", *FLAGS, "--out", str(out), "--resume", "auto"]
    with open(stderr, "w") as f:
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=f)


def writing_checkpoint(out: Path) -> bool:
    return any(out.glob(".last.pt.*.tmp")) or any(out.glob(".best.pt.*.tmp"))


def resume_point(out: Path) -> tuple[int, int] | None:
    """(epoch, step) that ``--resume auto`` announces for the current last.pt."""
    if not (out / "last.pt").exists():
        return None
    state = read_checkpoint(out / "last.pt")["train_state"]
    return state["epoch"] + 1, state["step_in_epoch"]


def step_of(out: Path, name: str) -> int | None:
    path = out / name
    return read_checkpoint(path)["train_state"]["global_step"] if path.exists() else None


def check_run_folder(out: Path) -> dict:
    """Every file a reader would use is complete; temporary files are only atomic writes' dot-named ``.tmp``."""
    if not out.exists():
        return {"last": None, "best": None, "temps": []}
    names = {p.name for p in out.iterdir()}
    temps = sorted(n for n in names if n.startswith(".") and n.endswith(".tmp"))
    assert names - set(temps) <= RUN_FILES, names
    if (out / "config.yaml").exists():
        assert yaml.safe_load((out / "config.yaml").read_text())["epochs"] == EPOCHS
    if (out / "log.csv").exists():
        text = (out / "log.csv").read_bytes().decode()
        assert text.startswith(HEADER + "\r\n"), text[:200]
        assert text.endswith("\n"), f"a row cut short: {text[-200:]!r}"
        assert all(len(row) == len(CSV_FIELDS) for row in csv.reader(text.splitlines()))
    last, best = step_of(out, "last.pt"), step_of(out, "best.pt")
    assert best is None or (last is not None and best <= last)
    return {"last": last, "best": best, "temps": temps}


def kill_moment(rng: random.Random, trial: int) -> tuple[str, int, float]:
    """(mode, steps to wait for, seconds): every third kill comes at a checkpoint write after a few steps, the
    others a random time after the start, or a random time after a few steps (counted in steps: speed varies)."""
    if trial % 3 == 2:
        return "checkpoint write", rng.randint(0, 2), 0.0
    if trial % 3 == 1:
        return "after start", 0, rng.uniform(0.5, 7.0)
    return "while training", rng.randint(1, 2), rng.uniform(0.0, 0.3)


def steps_logged(stderr: Path) -> int:
    return len(re.findall(r"epoch \d+/\d+ \[", stderr.read_text()))


def wait_for_kill_moment(proc: subprocess.Popen, moment: tuple[str, int, float], out: Path, stderr: Path) -> None:
    """Wait for the moment; never past MAX_STEPS_PER_TRIAL steps, so that on a fast machine the chain of kills
    does not finish the run (each trial advances it by at most a few steps)."""
    mode, steps, delay = moment
    started, reached = time.monotonic(), None
    while proc.poll() is None and time.monotonic() - started < 120:
        logged = steps_logged(stderr)
        if logged >= MAX_STEPS_PER_TRIAL:
            return
        if mode == "after start" and time.monotonic() - started > delay:
            return
        if mode == "checkpoint write" and logged >= steps and writing_checkpoint(out):
            return
        if mode == "while training" and logged >= steps:
            reached = reached or time.monotonic()
            if time.monotonic() - reached >= delay:
                return
        time.sleep(0.001)


def test_sigkill_at_random_moments_then_resume_completes(tmp_path):
    out = tmp_path / "run"
    rng = random.Random(SEED)
    trials, previous, advanced = [], {"last": None, "best": None, "temps": []}, 0
    for trial in range(KILLS):
        moment = kill_moment(rng, trial)
        stderr = tmp_path / f"stderr-{trial}.txt"
        expected_resume = resume_point(out)
        proc = start_training(out, stderr)
        wait_for_kill_moment(proc, moment, out, stderr)
        proc.kill()
        finished = proc.wait() == 0
        state = check_run_folder(out)
        new_temps = sorted(set(state["temps"]) - set(previous["temps"]))  # this kill's, not an earlier one's
        trials.append({"trial": trial, "moment": moment, "finished": finished, **state, "new_temps": new_temps})
        assert not finished, f"the run completed before {KILLS} kills; seed {SEED}: {trials}"
        assert (state["last"] or 0) >= (previous["last"] or 0), f"seed {SEED}: {trials}"
        advanced += (state["last"] or 0) > (previous["last"] or 0)
        resumed = re.search(r"resumed \S+ at epoch (\d+) step (\d+)", stderr.read_text())
        if resumed or steps_logged(stderr):  # past the start, which removes the temporary files of a kill
            assert not set(previous["temps"]) & set(state["temps"]), f"stale temporary files; seed {SEED}: {trials}"
        if resumed:
            assert (int(resumed[1]), int(resumed[2])) == expected_resume, f"seed {SEED}: {trials}"
        previous = state
    mid_write = sum(bool(t["new_temps"]) for t in trials)
    print(f"seed {SEED}: {KILLS} kills, {mid_write} mid-checkpoint-write, {advanced} resumes advanced: {trials}")
    assert mid_write >= KILLS // 3 - 2, f"too few kills landed in a checkpoint write; seed {SEED}: {trials}"

    final = subprocess.run(
        [sys.executable, "-m", "mhp.cli.train", *FLAGS, "--out", str(out), "--resume", "auto"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert final.returncode == 0, final.stderr[-2000:]
    assert final.stderr.splitlines()[-1].startswith(f"done: {EPOCHS} epoch(s)")
    state = check_run_folder(out)
    assert (state["last"], state["temps"]) == (EPOCHS * STEPS, [])
    with open(out / "log.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    steps = [int(r["step"]) for r in rows if r["loss"]]
    assert steps == list(range(1, EPOCHS * STEPS + 1)), f"each step logged once; seed {SEED}: {steps}"
    assert [int(r["epoch"]) for r in rows if r["val_mpjpe_mm"]] == list(range(1, EPOCHS + 1))


ROW = "1.0,1970-01-01T00:00:01.000Z,{epoch},{step},0.001,0.5,0.0,0.0,10.0,,\r\n"  # one value per CSV_FIELDS column


@pytest.mark.parametrize(
    ("content", "last_step", "kept_steps"),
    [
        pytest.param(HEADER + "\r\n" + ROW.format(epoch=1, step=1) + ROW.format(epoch=1, step=2), 1, [1], id="later"),
        pytest.param(HEADER + "\r\n" + ROW.format(epoch=1, step=1) + ROW.format(epoch=1, step=2)[:9], 5, [1], id="cut"),
        pytest.param(HEADER + "\r\n" + ROW.format(epoch=1, step=1) + ROW.format(epoch=1, step="x"), 5, [1], id="bad"),
        pytest.param(HEADER[:9], 5, [], id="header-cut"),
        pytest.param(HEADER + "\r\n" + ROW.format(epoch=1, step=1), 0, [], id="new-run"),
        pytest.param(HEADER + "\r\n" + ROW.format(epoch=1, step=1), 1, [1], id="unchanged"),
    ],
)
def test_resume_trims_the_log_to_the_checkpoint(tmp_path, content, last_step, kept_steps):
    """Rows after the checkpoint, a row or header cut short and unreadable rows go; the rest stays as written."""
    path = tmp_path / "log.csv"
    path.write_bytes(content.encode())
    trim_log(path, last_step)
    text = path.read_bytes().decode()
    assert text == HEADER + "\r\n" + "".join(ROW.format(epoch=1, step=s) for s in kept_steps)
    assert [p.name for p in tmp_path.iterdir()] == ["log.csv"]
