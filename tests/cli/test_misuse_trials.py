"""Issue 25's trials, made as a new user would: each test is named after its trial and runs the command with the
input that once gave a silent wrong result or lost work, expecting the exit code and the one-line message."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from mhp.cli.infer import main as infer_main
from mhp.data.synthetic import SyntheticHumans
from mhp.errors import MhpError

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


@pytest.fixture(scope="module")
def person_image(tmp_path_factory):
    folder = tmp_path_factory.mktemp("trial-media")
    scenes = SyntheticHumans(1, seed=7, image_size=(256, 192))
    cv2.imwrite(str(folder / "person.jpg"), scenes.load_image(0))
    return folder / "person.jpg", scenes.record(0).bbox_raw.tolist()


def test_trial_1_a_box_file_that_matches_no_input_is_refused(small_relu_export, person_image, tmp_path, capsys):
    """``{"persn.jpg": [...]}`` for ``person.jpg`` once fell back to the centred box and exited 0."""
    export, _ = small_relu_export
    image, box = person_image
    typo = tmp_path / "typo.json"
    typo.write_text(json.dumps({"persn.jpg": [box]}))
    out = tmp_path / "out"
    argv = [str(image), "--model", str(export / "lpski_int8.tflite"), "--detector", "none", "--out", str(out)]
    assert infer_main([*argv, "--boxes", str(typo)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {typo}: boxes given for 'persn.jpg', which matches no input (person.jpg); key boxes by "
                   "image file name"]  # fmt: skip
    assert not out.exists() or not list(out.iterdir())  # nothing written for a refused run
    right = tmp_path / "right.json"
    right.write_text(json.dumps({"person.jpg": [box]}))
    assert infer_main([*argv, "--boxes", str(right)]) == 0
    assert json.loads((out / "person.json").read_text())["frames"][0]["box_source"] == "given"


def test_trial_6_an_unwritable_eval_json_fails_before_the_evaluation(small_relu_checkpoint, tmp_path, capsys):
    """``mhp-eval --json /read-only/e.json`` once printed the whole evaluation, then failed on the write."""
    from mhp.cli.eval import main as eval_main

    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder would have to be")  # unwritable even for root
    argv = ["--checkpoint", small_relu_checkpoint, "--data", "synthetic", "--synthetic-samples", "8"]
    assert eval_main([*argv, "--json", str(blocker / "e.json")]) == 1
    out, err = capsys.readouterr()
    assert out == ""  # nothing evaluated
    (line,) = err.strip().splitlines()
    assert line.startswith(f"error: cannot write to --json {blocker} (")
    assert line.endswith("); choose a writable folder")


def test_trial_6_bench_checks_its_output_and_threads_before_measuring(small_relu_export, tmp_path, capsys):
    """``mhp-bench --out FILE`` once measured first and then failed; ``--threads 4096`` ran 145 s."""
    from mhp.cli.bench import main as bench_main

    export, _ = small_relu_export
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    argv = ["--artifacts", str(export / "lpski_int8.tflite"), "--no-accuracy", "--runs", "2", "--warmup", "0"]
    readme = tmp_path / "missing.md"
    cases = [
        (["--out", str(blocker / "results")], f"cannot write to --out {blocker / 'results'} (Not a directory)"),
        (["--threads", "4096", "--out", str(tmp_path)], "--threads must be at most 1024, got 4096"),
        (["--readme", str(readme), "--out", str(tmp_path)], f"--readme {readme} is not a writable file"),
    ]
    for extra, message in cases:
        assert bench_main([*argv, *extra]) == 1, extra
        out, err = capsys.readouterr()
        (line,) = err.strip().splitlines()  # no progress line: nothing was measured
        assert line.startswith(f"error: {message}")
        assert out == ""
    assert not list(tmp_path.glob("bench-*"))


def test_trial_6_a_bench_that_skips_every_row_fails(tmp_path, capsys):
    """A text file named ``.tflite`` once gave a skipped row and exit 0."""
    from mhp.cli.bench import main as bench_main

    fake = tmp_path / "model.tflite"
    fake.write_text("not a model")
    assert bench_main(["--artifacts", str(fake), "--out", str(tmp_path / "results"), "--threads", "1"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: every row was skipped, nothing was measured (model.tflite: ")
    assert "model.tflite.json is missing" in err[-1]
    assert not list((tmp_path / "results").glob("bench-*"))


def test_trial_3_a_failed_export_keeps_the_passing_artifact(small_relu_checkpoint, tmp_path, capsys):
    """Exporting an untrained checkpoint into a folder of passing artifacts once replaced the passing ONNX with one
    that failed its gate ("constant output"), rewrote the report to list only it, and mhp-infer ran it silently."""
    import mhp
    from mhp.cli.export import main as export_main
    from mhp.models.checkpoint import load_checkpoint_and_config
    from mhp.runtime.manifest import artifact_sha256, read_manifest

    trained, config, _ = load_checkpoint_and_config(small_relu_checkpoint)
    untrained = tmp_path / "untrained.pt"
    mhp.save_checkpoint(untrained, mhp.create_model(trained.model_name, **trained.model_kwargs), config=config)
    out = tmp_path / "export"
    argv = ["--target", "onnx", "--int8", "--out", str(out), "--parity-samples", "64"]
    assert export_main(["--checkpoint", small_relu_checkpoint, *argv]) == 0
    good = out / "lpski_int8.onnx"
    good_sha = artifact_sha256(good)
    capsys.readouterr()
    assert export_main(["--checkpoint", str(untrained), *argv]) == 1
    assert "kept the passing lpski_int8.onnx in its place" in capsys.readouterr().out
    assert artifact_sha256(good) == good_sha
    assert read_manifest(good).parity["passed"] is True
    failed = out / "lpski_int8.failed.onnx"
    assert read_manifest(failed).parity["passed"] is False
    assert "the checkpoint looks untrained" in " ".join(read_manifest(failed).parity["failures"])
    report = json.loads((out / "export_report.json").read_text())["artifacts"]
    assert [(Path(a["path"]).name, a["parity"]["passed"]) for a in report] == [
        ("lpski_int8.failed.onnx", False),
        ("lpski_int8.onnx", True),
    ]
    image = tmp_path / "person.jpg"
    cv2.imwrite(str(image), SyntheticHumans(1, seed=3, image_size=(256, 192)).load_image(0))
    infer = ["--detector", "none", "--out", str(tmp_path / "infer"), "--no-plot"]
    assert infer_main([str(image), "--model", str(failed), *infer]) == 0
    warning = capsys.readouterr().err.strip().splitlines()[0]
    assert warning.startswith(f"warning: {failed} FAILED its parity gate at export: ")
    assert json.loads((tmp_path / "infer" / "person.json").read_text())["model_gate"].startswith("FAILED: ")
    assert export_main(["--checkpoint", small_relu_checkpoint, *argv]) == 0  # passing again: the failed copy goes
    assert not failed.exists()
    assert not (out / "lpski_int8.failed.onnx.json").exists()


def test_trial_4_a_second_training_run_into_a_busy_folder_is_refused(tmp_path, capsys):
    """Two ``mhp-train`` runs into one ``--out`` once both "completed", with one interleaved ``log.csv`` and the
    second run's ``config.yaml``."""
    import subprocess
    import sys
    import time

    from mhp.cli.train import main as train_main
    from mhp.util.fileio import acquire_lock
    from tests.train.conftest import tiny_flags

    out = tmp_path / "run"
    flags = [*tiny_flags(epochs=1000), "--out", str(out)]
    first = subprocess.Popen([sys.executable, "-m", "mhp.cli.train", *flags], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not (out / "config.yaml").exists():  # the first run is under way
            assert first.poll() is None, "the first run stopped"
            assert time.monotonic() < deadline, "the first run did not start"
            time.sleep(0.2)
        config = (out / "config.yaml").read_text()
        assert train_main([*flags, "--lr", "0.5"]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [f"error: another mhp-train is writing to {out}; wait for it to finish or choose another --out"]
        assert (out / "config.yaml").read_text() == config  # the first run's, untouched
    finally:
        first.kill()
        first.wait()
    acquire_lock(out / ".mhp-train.lock", "still held").close()  # the lock died with its process


def test_trial_2_resume_auto_continues_the_run_with_its_own_config(tmp_path, capsys):
    """``mhp-train --resume auto --out RUN`` once refused a run trained with non-default flags unless ``--config
    RUN/config.yaml`` was added, and on an empty or mistyped folder silently started a new run."""
    from mhp.cli.train import main as train_main
    from tests.train.conftest import tiny_flags

    run = tmp_path / "run"
    assert train_main([*tiny_flags(epochs=1), "--out", str(run)]) == 0  # width 0.25, 64 px: not the defaults
    capsys.readouterr()
    assert train_main(["--resume", "auto", "--out", str(run), "--epochs", "2"]) == 0
    out = capsys.readouterr().err  # training reports on stderr
    assert f"resumed {run / 'last.pt'} at epoch 2 step 0" in out
    assert "done: 2 epoch(s)" in out
    assert train_main(["--resume", "auto", "--out", str(run), "--epochs", "3", "--width-mult", "0.5"]) == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        f"error: --width-mult 0.5 differs from the run being resumed in {run} (0.25, in its config.yaml); drop the "
        "flag, or train into another --out"
    ]
    typo = tmp_path / "rnu"
    assert train_main([*tiny_flags(epochs=1), "--resume", "auto", "--out", str(typo)]) == 0
    assert f"--resume auto: nothing to resume in {typo} (no last.pt), so a new run starts" in capsys.readouterr().err


def test_trial_5_one_bad_pose_or_image_does_not_stop_the_batch(small_relu_export, tmp_path, capsys):
    """One ``null`` ankle among 51 poses once wrote nothing; a folder of 3 images with one truncated JPEG stopped
    at that file. Every good item is written, each bad one named with its reason, and the exit code is 1."""
    import torch

    from mhp.data.lift_pairs import synthetic_pairs
    from mhp.models import create_model
    from mhp.models.checkpoint import save_checkpoint
    from mhp.skeleton import H36M

    torch.manual_seed(0)
    lifter = save_checkpoint(tmp_path / "lifter.pt", create_model("LIFT_MLP", width=32).eval(), config={"task": "lift"})
    pairs = synthetic_pairs(51, 5, H36M)
    poses = [
        {"id": f"f{i}", "keypoints": [[float(x), float(y), 0.9] for x, y in p]} for i, p in enumerate(pairs.joints_2d)
    ]
    ankle = H36M.joints.index("R_Ankle")
    poses[17]["keypoints"][ankle] = None
    keypoints = tmp_path / "poses.json"
    keypoints.write_text(json.dumps({"joint_set": "H36M", "poses": poses}))
    out = tmp_path / "lifted"
    assert infer_main(["--keypoints", str(keypoints), "--model", str(lifter), "--out", str(out), "--no-plot"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2
    assert err[0].startswith("failed: ")
    assert "f17" in err[0]
    assert "R_Ankle" in err[0]
    assert err[1] == (
        f"error: 1 of 51 poses failed, the other 50 were written to {out / 'poses_lifted.json'}; --strict stops at "
        "the first failure"
    )
    lifted = json.loads((out / "poses_lifted.json").read_text())["poses"]
    assert [p["id"] for p in lifted] == [f"f{i}" for i in range(51) if i != 17]
    strict = tmp_path / "strict"
    argv = ["--keypoints", str(keypoints), "--model", str(lifter), "--out", str(strict), "--strict"]
    assert infer_main(argv) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == f"error: {keypoints}: pose 17 (id 'f17'), joint 3 (R_Ankle) is null, and the H36M lifter needs it"
    assert not strict.exists() or not list(strict.iterdir())  # --strict: today's stop at the first bad pose

    export, _ = small_relu_export
    folder = tmp_path / "images"
    folder.mkdir()
    scenes = SyntheticHumans(3, seed=7, image_size=(256, 192))
    for i in range(3):
        cv2.imwrite(str(folder / f"scene{i}.jpg"), scenes.load_image(i))
    (folder / "scene1.jpg").write_bytes((folder / "scene1.jpg").read_bytes()[:2000])  # cut short: truncated
    images = tmp_path / "images-out"
    argv = [str(folder), "--model", str(export / "lpski_int8.tflite"), "--out", str(images), "--no-plot"]
    assert infer_main([*argv, "--detector", "none"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("failed: scene1.jpg: ")
    assert "truncated JPEG" in err[0]
    assert err[1].startswith("error: 1 of 3 images failed, the other 2 were written to ")
    assert sorted(p.name for p in images.glob("*.json")) == ["scene0.json", "scene2.json"]


def test_trial_9_two_inputs_are_refused_and_videos_get_a_normal_mode(small_relu_export, tmp_path, capsys):
    """``mhp-infer photo.jpg --input other.jpg`` once ignored ``--input``; overlay videos were written 0600."""
    import os

    export, _ = small_relu_export
    model = str(export / "lpski_int8.tflite")
    assert infer_main(["a.jpg", "--input", "b.jpg", "--model", model]) == 1
    assert capsys.readouterr().err.strip() == (
        "error: two inputs: a.jpg and --input b.jpg; give one (run mhp-infer once per input)"
    )
    video = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (256, 192))
    scenes = SyntheticHumans(3, seed=7, image_size=(256, 192))
    for i in range(3):
        writer.write(scenes.load_image(i))
    writer.release()
    out = tmp_path / "out"
    mask = os.umask(0o022)
    try:
        assert infer_main([str(video), "--model", model, "--out", str(out), "--no-plot", "--detector", "none"]) == 0
    finally:
        os.umask(mask)
    assert (out / "clip_overlay.mp4").stat().st_mode & 0o777 == 0o644
    assert (out / "clip.json").stat().st_mode & 0o777 == 0o644


def test_trial_7_defaults_fit_the_machine_and_a_long_run_says_so(tmp_path, capsys, monkeypatch):
    """Bare ``mhp-train`` once ran ``--workers 4`` on 2 cores (torch warned) and showed only its ETA: ~19 h."""
    import os

    from mhp.cli.train import main as train_main
    from mhp.config import EvalConfig, TrainConfig
    from tests.train.conftest import tiny_flags

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    assert (TrainConfig().workers, EvalConfig(checkpoint="x.pt").workers) == (2, 2)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)))
    assert (TrainConfig().workers, EvalConfig(checkpoint="x.pt").workers) == (4, 2)
    monkeypatch.undo()
    monkeypatch.setattr("mhp.train.run.LONG_RUN_S", 0.0)  # every run is "long": the note is what is tested
    assert train_main([*tiny_flags(epochs=2), "--out", str(tmp_path / "long")]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note: ")]
    assert len(notes) == 1
    assert notes[0].startswith("note: at this speed the run ends in about ")
    assert notes[0].endswith(
        "(2 epochs); to try things first: make quickstart (13 min), fewer --epochs or a --time-limit-min"
    )
    assert train_main([*tiny_flags(epochs=2), "--time-limit-min", "30", "--out", str(tmp_path / "limited")]) == 0
    assert "note: " not in capsys.readouterr().err  # a time limit says how long the user meant


@pytest.mark.parametrize(
    ("command", "argv", "message"),
    [
        ("train", ["--epcohs", "3"], "mhp-train: error: unknown flag --epcohs; did you mean --epochs?"),
        ("data", ["synth", "--ouy", "x"], "mhp-data: error: unknown flag --ouy; did you mean --out?"),
        ("infer", ["a.jpg", "b.jpg"], "mhp-infer: error: unexpected argument b.jpg"),
    ],
)
def test_trial_8_an_unknown_flag_is_one_line_with_the_closest_flags(command, argv, message, capsys):
    """``mhp-train --epcohs 3`` once printed 30 lines of usage and no suggestion."""
    import importlib

    main = importlib.import_module(f"mhp.cli.{command}").main
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines() == [f"{message} (mhp-{command} --help lists the flags)"]


def test_trial_8_help_is_written_for_users(capsys):
    """``--help`` once showed Python tuples (``(default: (1, 2))``) and the internal "reference §10"."""
    import importlib

    for command in ("train", "eval", "export", "bench", "infer", "data", "models", "quickstart"):
        with pytest.raises(SystemExit):
            importlib.import_module(f"mhp.cli.{command}").main(["--help"])
        text = capsys.readouterr().out
        assert "§" not in text, command
        assert "``" not in text, command
        assert "default: (" not in text, command


def test_trial_9_eval_on_an_artifact_says_what_it_is(tmp_path, capsys):
    """``mhp-eval`` on a ``.tflite`` once said "corrupt or not a PyTorch checkpoint"."""
    from mhp.cli.eval import main as eval_main

    artifact = tmp_path / "lpski_int8.tflite"
    artifact.write_bytes(b"TFL3")
    assert eval_main(["--checkpoint", str(artifact), "--data", "synthetic"]) == 1
    assert capsys.readouterr().err.strip() == (
        f"error: {artifact} is an exported artifact, not a PyTorch checkpoint; score it with mhp-bench --artifacts "
        f"{artifact} --data synthetic (or --data h36m=ROOT), or pass the checkpoint it was exported from"
    )


def test_trial_9_log_csv_has_iso_time(tmp_path):
    """``log.csv`` once had Unix timestamps only."""
    import csv
    from datetime import datetime

    from mhp.cli.train import main as train_main
    from tests.train.conftest import tiny_flags

    assert train_main([*tiny_flags(epochs=1), "--out", str(tmp_path / "run")]) == 0
    rows = list(csv.DictReader((tmp_path / "run" / "log.csv").read_text().splitlines()))
    assert rows
    for row in rows:
        stamp = datetime.strptime(row["time_utc"], "%Y-%m-%dT%H:%M:%S.%fZ")  # the format spreadsheets read
        assert abs((stamp - datetime(1970, 1, 1)).total_seconds() - float(row["time"])) < 2e-3  # the same instant


def test_trial_9_the_3d_plot_tick_labels_do_not_overlap():
    """The 3D plots' depth-axis tick labels once printed over one another in an unreadable block. How long each
    axis looks is found by projecting its two ends through the view: one seen end-on (shorter than a few tick labels
    stacked) must print no tick labels, and the others must keep theirs."""
    import matplotlib.pyplot as plt
    from mpl_toolkits.mplot3d import proj3d

    from mhp.data.lift_pairs import synthetic_pairs
    from mhp.infer.draw import figure_3d
    from mhp.skeleton import H36M

    pose = synthetic_pairs(1, 2, H36M).joints_3d[0]
    fig = figure_3d([pose - pose[0]], H36M.bones, H36M.joints, title="tick labels")
    fig.canvas.draw()
    try:
        end_on = 0
        for ax in fig.axes:
            limits = [ax.get_xlim3d(), ax.get_ylim3d(), ax.get_zlim3d()]
            for index, axis in enumerate((ax.xaxis, ax.yaxis, ax.zaxis)):
                ends = []
                for value in limits[index]:  # the axis's two ends, the other coordinates at their lower limit
                    xyz = [low for low, _ in limits]
                    xyz[index] = value
                    x, y, _ = proj3d.proj_transform(*xyz, ax.get_proj())
                    ends.append(ax.transData.transform((x, y)))
                length = float(np.hypot(*(ends[1] - ends[0])))  # pixels on screen
                labels = [t.get_text() for t in axis.get_ticklabels() if t.get_visible() and t.get_text()]
                if length < 100:  # about six lines of tick-label text: labels would print over one another
                    end_on += 1
                    assert labels == [], (ax.get_title(), index, length, labels)
                else:
                    assert len(labels) >= 2, (ax.get_title(), index, length)
        assert end_on == 2  # depth seen from the front, x from the side
    finally:
        plt.close(fig)


def test_trial_9_export_shows_progress_and_hides_the_converters_log(small_relu_checkpoint, tmp_path):
    """mhp-export once printed TensorFlow's absl/oneDNN/XNNPACK lines and no progress; they are kept for --verbose."""
    import subprocess
    import sys

    argv = [sys.executable, "-m", "mhp.cli.export", "--checkpoint", small_relu_checkpoint, "--target", "tflite"]
    argv += ["--precision", "fp32", "--parity-samples", "8", "--out", str(tmp_path / "quiet")]
    quiet = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""  # nothing but mhp's own lines, and those went to stdout
    lines = quiet.stdout.splitlines()
    assert lines[1] == "[1/1] lpski_fp32.tflite: converting, then its parity gate"
    assert lines[2].startswith(f"wrote {tmp_path / 'quiet' / 'lpski_fp32.tflite'} (")
    verbose = subprocess.run([*argv[:-1], str(tmp_path / "verbose"), "--verbose"], capture_output=True, text=True)
    assert verbose.returncode == 0
    assert "XNNPACK" in verbose.stderr or "TensorFlow" in verbose.stderr  # what the quiet run hid
    image = tmp_path / "person.jpg"
    cv2.imwrite(str(image), SyntheticHumans(1, seed=3, image_size=(128, 128)).load_image(0))
    infer = [sys.executable, "-m", "mhp.cli.infer", str(image), "--model", str(tmp_path / "quiet/lpski_fp32.tflite")]
    infer += ["--detector", "none", "--no-plot", "--no-overlay", "--out", str(tmp_path / "infer")]
    ran = subprocess.run(infer, capture_output=True, text=True, timeout=300)
    assert (ran.returncode, ran.stderr) == (0, "")  # LiteRT's "Created TensorFlow Lite XNNPACK delegate" hidden
    loud = subprocess.run([*infer, "--verbose"], capture_output=True, text=True, timeout=300)
    assert "XNNPACK" in loud.stderr


def test_trial_9_the_hidden_log_shows_when_the_work_fails(capfd):
    import os
    import subprocess
    import sys

    from mhp.util.native_log import native_log

    with native_log(verbose=False):
        os.write(2, b"I0000 noise from a native library\n")
    assert capfd.readouterr().err == ""

    def crash() -> None:
        os.write(2, b"F0000 the converter's reason\n")
        raise RuntimeError("converter crashed")

    def fail_clearly() -> None:
        os.write(2, b"[mov,mp4] moov atom not found\n")
        raise MhpError("clip.mp4: not a video OpenCV can decode")

    with pytest.raises(RuntimeError), native_log(verbose=False):
        crash()
    err = capfd.readouterr().err
    assert err == "the native libraries' own log, last lines (--verbose shows it all):\nF0000 the converter's reason\n"
    with pytest.raises(MhpError), native_log(verbose=False):
        fail_clearly()
    assert capfd.readouterr().err == ""  # mhp's own error says what to fix: the native lines stay hidden
    with native_log(verbose=True):
        os.write(2, b"shown\n")
    assert capfd.readouterr().err == "shown\n"
    script = "import os, sys\nfrom mhp.util.native_log import native_log\nwith native_log(False):\n"
    script += "    os.write(2, b'native\\n')\n    print('mine', file=sys.stderr)\nprint('after', file=sys.stderr)\n"
    process = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert process.stderr == "mine\nafter\n"  # Python's own stderr is not hidden with the native one


def test_trial_9_synth_shows_progress(tmp_path, capsys):
    from mhp.cli.data import main as data_main

    argv = ["synth", "--format", "h36m", "--subjects", "9", "--actions", "2", "--cameras", "1,2", "--frames", "2"]
    assert data_main([*argv, "--out", str(tmp_path / "h36m")]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines()[-1].startswith("[####################] 8/8 images, ")  # 2 subactions x 2 x 2
    assert len(list((tmp_path / "h36m" / "images").glob("*/*.jpg"))) == 8
    assert "wrote synthetic h36m: 8 annotated people in 8 images" in captured.out


def test_trial_9_the_readme_coco_keypoints_example_runs_as_written(tmp_path, monkeypatch, capsys):
    """The README's COCO keypoint file once failed with the default lifter (H36M set); the README now trains a
    lifter on the COCO set and ships a whole file (tests/test_readme.py runs every README line as well)."""
    from mhp.cli.train import main as train_main

    monkeypatch.chdir(tmp_path)
    keypoints = Path(__file__).parents[2] / "examples" / "poses_2d_coco.json"
    short = ["--epochs", "1", "--max-steps-per-epoch", "2", "--synthetic-samples", "32", "--batch-size", "8"]
    assert train_main(["--task", "lift", "--out", "runs/lift", *short, "--workers", "0"]) == 0
    assert infer_main(["--keypoints", str(keypoints), "--model", "runs/lift/best.pt", "--no-plot"]) == 1
    assert "the COCO set lacks Torso, Neck, Head, which the H36M lifter needs" in capsys.readouterr().err
    assert train_main(["--task", "lift", "--joint-set", "COCO", "--out", "runs/lift_coco", *short]) == 0
    assert infer_main(["--keypoints", str(keypoints), "--model", "runs/lift_coco/best.pt"]) == 0
    lifted = json.loads(Path("runs/infer/poses_2d_coco_lifted.json").read_text())
    assert [pose["id"] for pose in lifted["poses"]] == ["frame_0001", "frame_0002", "frame_0003"]
    assert np.asarray(lifted["poses"][0]["joints_rel_mm"]).shape == (19, 3)


def test_trial_9_a_run_folder_has_its_training_curves(tmp_path):
    """No results.png once; the curves' numbers are checked against log.csv in tests/train/test_curves.py."""
    from mhp.cli.train import main as train_main

    short = ["--epochs", "2", "--max-steps-per-epoch", "2", "--synthetic-samples", "32", "--batch-size", "8"]
    assert train_main(["--task", "lift", "--out", str(tmp_path / "run"), *short, "--workers", "0"]) == 0
    picture = cv2.imread(str(tmp_path / "run" / "results.png"))
    assert picture is not None
    assert picture.shape[1] > picture.shape[0]  # two panels side by side: loss | validation
