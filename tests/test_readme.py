"""The README's examples run as written: its Python model example, and (issue 25) every line of its ```bash
blocks, in README order, in one fresh folder, so each command finds what the ones before it wrote. A command is
shortened only by flags of its own (one epoch of two steps, a few samples), and what only a user can supply is
replaced by synthetic data in the same on-disk layout (the datasets, a photo, a video, an original snapshot). A line
no rule covers fails the test: a new README example is either run here or skipped with its reason."""

import json
import re
import shlex
import shutil
from pathlib import Path

import cv2
import pytest
import torch

from mhp.cli import bench, data, eval, export, infer, train
from mhp.data.synthetic import SyntheticHumans
from tests.infer.test_detector import write_constant_detector
from tests.models.original_reference import original_state

ROOT = Path(__file__).parents[1]
MAINS = {"mhp-train": train.main, "mhp-eval": eval.main, "mhp-export": export.main, "mhp-bench": bench.main}
MAINS.update({"mhp-infer": infer.main, "mhp-data": data.main})
SKIPPED = {  # a line starting so is not run here, for this reason
    "python3 -m venv": "the install: make test and make quickstart run it on a fresh clone",
    "pip install": "the install: make test and make quickstart run it on a fresh clone",
    "make ": "make targets: CI runs make test; quickstart and the peers bench take minutes",
    "torchrun ": "its '...' stands for a recipe's flags; DDP is tested in tests/train/test_ddp.py",
    "mhp-bench --phone android": "needs a phone on adb (tests/bench/test_device.py fakes one)",
}
PEER = ROOT / ".venv" / "peers" / "pose_landmark_full.tflite"  # unpacked by make peers, not by make test
STANDS_FOR = {  # what a user supplies -> what the test writes in its place (relative to the run folder)
    "/data/Human36M": "data/h36m",
    "/data/MPII": "data/mpii",
    "/data/MuPoTS": "data/mupots",
    "/tmp/fake_h36m": "fake_h36m",
    "mhp-bench-android-1763728800.json": str(ROOT / "tests/bench/fixtures/app_bench_ios.json"),
    "pose_landmark_full.tflite": str(PEER),
    "examples/": str(ROOT / "examples") + "/",
    "RUN/": "runs/quickstart/",
    "EXPORT": "runs/quickstart/export",
}
TRAIN = ["--epochs", "1", "--max-steps-per-epoch", "2", "--batch-size", "4", "--workers", "0"]
TRAIN += ["--synthetic-samples", "32", "--synthetic-val-samples", "8"]
SHORTER = {  # each command's own flags that make it quick; a flag given twice: the last counts
    "mhp-train": [*TRAIN, "--input-size", "64", "--width-mult", "0.25"],
    "mhp-train --task": [*TRAIN, "--lift-width", "64"],
    "mhp-train --resume": ["--epochs", "2", "--max-steps-per-epoch", "2", "--workers", "0"],
    "mhp-eval": ["--synthetic-samples", "8", "--batch-size", "4", "--workers", "0"],
    "mhp-export": ["--parity-samples", "16"],
    "mhp-bench": ["--runs", "3", "--warmup", "1", "--samples", "8", "--no-memory", "--no-plots"],
    "mhp-infer": ["--max-frames", "3"],
    "mhp-data synth": ["--subjects", "9", "--actions", "2", "--frames", "1", "--cameras", "1"],
    "mhp-data show": ["--samples", "4"],
    "mhp-data stats --data synthetic": ["--samples", "50"],
}


def readme_lines() -> list[str]:
    """The lines of the README's ```bash blocks, continuations joined and comments dropped."""
    lines, block = [], False
    for raw in (ROOT / "README.md").read_text().replace("\\\n", " ").splitlines():
        if raw.startswith("```"):
            block = raw == "```bash"
            continue
        line = re.sub(r"\s+#.*$", "", raw).strip()
        if block and line:
            lines.append(line)
    return lines


def shortened(line: str) -> list[str]:
    """The line's words with the placeholders replaced and its command's shortening flags appended."""
    for placeholder, stand_in in STANDS_FOR.items():
        line = line.replace(placeholder, stand_in)
    rule = max((key for key in SHORTER if line.startswith(key)), key=len, default=None)
    return shlex.split(line) + (SHORTER[rule] if rule else [])


def write_user_data(folder: Path, trained: str) -> None:
    """What the README's lines expect a user to have: datasets, a photo, photos, a video, boxes, an original
    snapshot, a detector declaration; and what ``make quickstart`` leaves: a trained model (``trained``, a few epochs:
    two steps would fail the parity gates as constant) with its float32 and INT8 exports."""
    synth = ["--subjects", "1,5,6,7,8,9,11", "--actions", "2,3", "--frames", "2", "--cameras", "1,2"]
    assert data.main(["synth", "--format", "h36m", "--out", str(folder / "data/h36m"), *synth]) == 0
    assert data.main(["synth", "--format", "mpii", "--out", str(folder / "data/mpii"), "--images", "12"]) == 0
    mupots = ["--sequences", "2", "--frames", "2"]
    assert data.main(["synth", "--format", "mupots", "--out", str(folder / "data/mupots"), *mupots]) == 0
    scenes = SyntheticHumans(4, seed=5, image_size=(320, 240))
    cv2.imwrite(str(folder / "photo.jpg"), scenes.load_image(0))
    (folder / "photos").mkdir()
    for i in (1, 2):
        cv2.imwrite(str(folder / "photos" / f"p{i}.jpg"), scenes.load_image(i))
    (folder / "boxes.json").write_text(json.dumps([scenes.record(1).bbox_raw.tolist()]))
    video = cv2.VideoWriter(str(folder / "clip.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 10, (320, 240))
    for _ in range(4):
        video.write(scenes.load_image(3))
    video.release()
    (folder / "detector").mkdir()
    declaration = write_constant_detector(folder / "detector")
    shutil.copy(declaration, folder / "my_detector.json")
    shutil.copy(declaration.parent / "det.onnx", folder / "det.onnx")
    optimizer = {"state": {}, "param_groups": [{"lr": 1e-5, "betas": (0.9, 0.999), "params": [0, 1]}]}
    snapshot = {"epoch": 24, "network": original_state("LPSKI", 21), "optimizer": optimizer}
    torch.save(snapshot, folder / "snapshot_24.pth.tar")
    (folder / "runs/quickstart").mkdir(parents=True)
    shutil.copy(trained, folder / "runs/quickstart/best.pt")
    shrink = ["--parity-samples", "16", "--out", "runs/quickstart/export"]
    for target in ("onnx", "tflite"):
        argv = ["--checkpoint", "runs/quickstart/best.pt", "--target", target, "--precision", "fp32", "int8"]
        assert export.main([*argv, *shrink]) == 0


def test_model_example_runs():
    """The README's Python model example, run as written."""
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    example = next(b for b in blocks if "create_model" in b)
    scope: dict = {}
    exec(compile(example, "README.md", "exec"), scope)
    assert tuple(scope["coords"].shape) == (1, 18, 3)
    assert tuple(scope["logits"].shape) == (1, 576, 32, 32)


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_every_readme_command_runs_as_written(small_relu_checkpoint, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write_user_data(tmp_path, small_relu_checkpoint)
    ran, skipped = [], []
    for line in readme_lines():
        reason = next((why for start, why in SKIPPED.items() if line.startswith(start)), None)
        if reason is None and "pose_landmark_full.tflite" in line and not PEER.is_file():
            reason = "the BlazePose peer is unpacked by make peers"
        if reason is not None:
            skipped.append((line, reason))
            continue
        words = shortened(line)
        assert words[0] in MAINS, f"README line with no rule here (run it or add it to SKIPPED): {line}"
        capsys.readouterr()
        code = MAINS[words[0]](words[1:])
        out, err = capsys.readouterr()
        assert code == 0, f"README line failed: {line}\nran: {shlex.join(words)}\n{out[-1500:]}\n{err[-1500:]}"
        ran.append(line)
    assert len(ran) >= 25, ran  # the README's examples, not a parsing accident
    assert {line.split()[0] for line in ran} == set(MAINS)
    assert (tmp_path / "runs/lpski_h36m_p2/last.pt").is_file()  # the recipe line wrote where the next ones read
    assert (tmp_path / "runs/export/quickstart/lpski_int8.tflite").is_file()  # mhp-export's default output root
    assert (tmp_path / "runs/lift_coco/best.pt").is_file()
    lifted = json.loads((tmp_path / "runs/infer/poses_2d_coco_lifted.json").read_text())
    assert (lifted["joints"]["set"], len(lifted["poses"])) == ("COCO", 3)  # the example file, lifted as written
