"""Checkpoints from strangers: mhp unpickles only tensors, numbers, strings and containers. A checkpoint whose
pickle would run code is refused, with a one-line error, by every command that reads checkpoints, and the code
never runs (issue 10, item 1)."""

import ast
from pathlib import Path

import numpy as np
import pytest
import torch

from mhp.cli.bench import main as bench_main
from mhp.cli.eval import main as eval_main
from mhp.cli.export import main as export_main
from mhp.cli.infer import main as infer_main
from mhp.models.checkpoint import CheckpointError, load_checkpoint, read_checkpoint

MHP = Path(__file__).resolve().parents[1] / "mhp"


class Payload:
    """Unpickling this runs ``exec``: it writes ``marker`` (a stand-in for anything an attacker wants)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return exec, (f"open({str(self.marker)!r}, 'w').write('the checkpoint ran code')",)


@pytest.fixture
def hostile(tmp_path):
    """(checkpoint, marker): an mhp-looking checkpoint with a code-running object inside."""
    marker = tmp_path / "pwned"
    path = tmp_path / "downloaded.pt"
    torch.save({"version": 1, "model": "LPSKI", "model_kwargs": {}, "state_dict": {}, "extra": Payload(marker)}, path)
    return path, marker


def test_the_payload_is_live_when_unpickled_unsafely(hostile):
    """The fixture is a real attack: a plain ``torch.load(weights_only=False)`` runs it."""
    path, marker = hostile
    torch.load(path, weights_only=False)
    assert marker.read_text() == "the checkpoint ran code"


def test_the_api_refuses_it_without_running_it(hostile):
    path, marker = hostile
    for load in (read_checkpoint, load_checkpoint):
        with pytest.raises(CheckpointError, match=r"holds a Python object \(exec\) that cannot be loaded safely"):
            load(path)
    assert not marker.exists()


def test_every_command_refuses_it_with_one_line(hostile, tmp_path, capsys):
    path, marker = hostile
    image = tmp_path / "person.png"
    import cv2

    cv2.imwrite(str(image), np.full((64, 48, 3), 128, np.uint8))
    commands = {
        "mhp-eval": (eval_main, ["--checkpoint", str(path), "--data", "synthetic"]),
        "mhp-export": (export_main, ["--checkpoint", str(path), "--out", str(tmp_path / "export")]),
        "mhp-infer": (infer_main, [str(image), "--model", str(path), "--out", str(tmp_path / "infer")]),
        "mhp-bench": (bench_main, ["--checkpoint", str(path), "--out", str(tmp_path / "bench")]),
    }
    for name, (main, argv) in commands.items():
        assert main(argv) == 1, name
        err = capsys.readouterr().err.strip()
        assert "\n" not in err, f"{name}: {err}"
        assert "cannot be loaded safely" in err, f"{name}: {err}"
        assert not marker.exists(), name
    assert not (tmp_path / "export").exists()  # nothing half-written


def test_resuming_training_from_it_is_refused(hostile):
    from mhp.models import create_model
    from mhp.train.checkpoint import load_training

    path, marker = hostile
    model = create_model("LPSKI", num_joints=18, width_mult=0.25, embedding_size=256, input_size=64)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(CheckpointError, match="cannot be loaded safely"):
        load_training(path, model, optimizer, torch.amp.GradScaler("cpu", enabled=False))
    assert not marker.exists()


def test_imagenet_weights_are_loaded_safely_too(hostile):
    from mhp.models.resnet import ResNetBackbone

    path, marker = hostile
    with pytest.raises(CheckpointError, match="not a readable PyTorch file"):
        ResNetBackbone().load_imagenet(path)
    assert not marker.exists()


def test_every_torch_load_in_mhp_is_weights_only():
    calls = []
    for source in MHP.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "torch.load":
                safe = any(k.arg == "weights_only" and ast.unparse(k.value) == "True" for k in node.keywords)
                calls.append((source.relative_to(MHP), node.lineno, safe))
    assert calls  # the scan finds the loaders
    assert [c for c in calls if not c[2]] == []
