"""Interrupted and concurrent exports: SIGKILL at random points leaves every file old-complete or new-complete
(an artifact always agrees with its manifest, or is refused), and two exports into one folder do not mix."""

import json
import random
import subprocess
import sys
import time
from pathlib import Path

import onnx
import pytest
import torch

from mhp.errors import MhpError
from mhp.models import create_model
from mhp.models.checkpoint import save_checkpoint
from mhp.runtime.manifest import file_sha256, read_manifest

pytestmark = pytest.mark.slow

SEED = 20_260_310
KILLS = 9
MODES = ("random", "staged", "committed")
ARTIFACT = "lpski_fp32.onnx"
EXPORT_FILES = {ARTIFACT, f"{ARTIFACT}.json", "export_report.json", ".mhp-export.lock"}


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """Two small models with different weights: the old and the new export are told apart by their bytes."""
    folder = tmp_path_factory.mktemp("checkpoints")
    paths = []
    for seed, name in enumerate(("old.pt", "new.pt")):
        torch.manual_seed(seed)
        model = create_model("LPSKI", width_mult=0.25, embedding_size=32, input_size=64)
        paths.append(str(save_checkpoint(folder / name, model)))
    return paths


def start_export(checkpoint: str, out: Path) -> subprocess.Popen:
    command = ["--no-check", "--checkpoint", checkpoint, "--target", "onnx", "--precision", "fp32", "--out", str(out)]
    return subprocess.Popen(
        [sys.executable, "-m", "mhp.cli.export", *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def run_export(checkpoint: str, out: Path) -> None:
    proc = start_export(checkpoint, out)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr[-2000:]


def kill_point_reached(mode: str, out: Path, before: dict, waited: float, delay: float) -> bool:
    """random: after ``delay`` s; staged: the artifact is converted in a new staging folder; committed: the
    artifact in ``out`` was just replaced (its manifest and the report may not be)."""
    if mode == "random":
        return waited > delay
    if mode == "staged":
        return any(p.parent not in before["staging"] for p in out.glob(f".mhp-export-*/{ARTIFACT}"))
    return (out / ARTIFACT).stat().st_ino != before["inode"]


def export_state(out: Path, checkpoints: list[str]) -> dict:
    """Which export each file comes from ("old", "new"); every file must be complete and consistent."""
    stray = sorted(p.name for p in out.iterdir() if p.name not in EXPORT_FILES and not p.name.startswith("."))
    assert not stray, f"files a reader could take for results: {stray}"
    onnx.checker.check_model(onnx.load(str(out / ARTIFACT)), full_check=True)
    report = json.loads((out / "export_report.json").read_text())
    source = {checkpoints[0]: "old", checkpoints[1]: "new"}
    state = {"report": source[report["checkpoint"]], "artifact_sha256": file_sha256(out / ARTIFACT)}
    try:
        manifest = read_manifest(out / ARTIFACT)
    except MhpError as exc:  # a kill between the two renames: the pair is refused, not used
        state["manifest"] = "refused" if "does not match its manifest" in str(exc) else str(exc)
        return state
    assert manifest.artifact_sha256 == state["artifact_sha256"]
    state["manifest"] = source[manifest.source_checkpoint["path"]]
    return state


def test_sigkilled_exports_leave_old_or_new_files_and_a_rerun_completes(checkpoints, tmp_path):
    """Exports of the two checkpoints take turns over one folder, each killed at a random moment or right
    after a step of its commit; every file stays one export's complete file."""
    first, second = checkpoints
    out = tmp_path / "export"
    run_export(first, out)
    first_sha = file_sha256(out / ARTIFACT)
    rng = random.Random(SEED)
    trials = []
    for trial in range(KILLS):
        mode, delay = MODES[trial % len(MODES)], rng.uniform(3.0, 9.0)
        before = {"staging": set(out.glob(".mhp-export-*")), "inode": (out / ARTIFACT).stat().st_ino}
        proc = start_export((second, first)[trial % 2], out)
        started, reached = time.monotonic(), False
        while proc.poll() is None and time.monotonic() - started < 60:
            reached = kill_point_reached(mode, out, before, time.monotonic() - started, delay)
            if reached:
                break
            time.sleep(0.001)
        proc.kill()  # SIGKILL, unless it already finished
        done = proc.wait() == 0
        at = round(time.monotonic() - started, 2)
        trials.append({"mode": mode, "delay": round(delay, 2), "at": at, "reached": reached, "done": done})
        trials[-1].update(export_state(out, [first, second]))
    print(f"seed {SEED}: {trials}")
    run_export(second, out)
    final = export_state(out, [first, second])
    assert (final["report"], final["manifest"]) == ("new", "new")
    assert not list(out.glob(".mhp-export-*")), "the rerun removes the staging folders that kills left"
    version = {first_sha: "old", final["artifact_sha256"]: "new"}
    previous = "old"
    for t in trials:
        assert t["artifact_sha256"] in version, (SEED, t)
        if t["manifest"] == "refused":  # a kill between the artifact's and the manifest's rename
            assert t["mode"] == "committed" or previous == "refused", (SEED, t)
        else:
            assert t["manifest"] == version[t["artifact_sha256"]], (SEED, t)
        previous = t["manifest"]
    print(f"refused pairs after a kill: {sum(t['manifest'] == 'refused' for t in trials)} of {KILLS}")


def test_two_exports_into_one_folder_do_not_mix(checkpoints, tmp_path):
    first, second = checkpoints
    out = tmp_path / "export"
    procs = [start_export(checkpoint, out) for checkpoint in (first, second)]
    outcomes = [(proc.wait(timeout=300), proc.stderr.read().strip().splitlines()) for proc in procs]
    refused = [lines[-1] for rc, lines in outcomes if rc != 0]
    print(f"exit codes {[rc for rc, _ in outcomes]}, refusals {refused}")
    assert len(refused) <= 1, outcomes
    for line in refused:
        assert line == f"error: another mhp-export is writing to {out}; wait for it to finish or choose another --out"
    state = export_state(out, [first, second])
    assert state["manifest"] == state["report"], state  # the artifact, its manifest and the report of one export
    sources = {first: "old", second: "new"}
    winners = [sources[c] for c, (rc, _) in zip((first, second), outcomes, strict=True) if rc == 0]
    assert state["manifest"] in winners
    assert not list(out.glob(".mhp-export-*"))
