"""The real peer, MediaPipe's BlazePose GHUM full landmark model (unpacked from the mediapipe wheel by make test),
timed by mhp-bench as a user would: the other peer tests use a copy of mhp's own model as a stand-in."""

import json
import sys
from pathlib import Path

import pytest

from mhp.bench.schema import EXPORT_FAILED
from mhp.cli.bench import main as bench_main

PEER = Path(sys.prefix) / "peers" / "pose_landmark_full.tflite"  # .venv/peers (Makefile: $(BLAZEPOSE))
pytestmark = pytest.mark.skipif(not PEER.is_file(), reason="make test unpacks BlazePose from the mediapipe wheel")


def test_blazepose_full_is_timed_as_a_peer(tmp_path, capsys):
    """What MediaPipe's model card says the file is (a 256x256 RGB float input; 39 landmarks x 5 values, 33 of
    them body keypoints), then one peer row of mhp-bench with its own latency, size and XNNPACK partitions.
    Mutation tried: a --peer-input of 224 is refused with the file's real input shape."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(PEER))
    (image,) = interpreter.get_input_details()
    assert image["shape"].tolist() == [1, 256, 256, 3]
    assert [1, 39 * 5] in [o["shape"].tolist() for o in interpreter.get_output_details()]
    argv = ["--peer", str(PEER), "--peer-input", "256", "--threads", "1", "--runs", "5", "--warmup", "1"]
    assert bench_main([*argv, "--no-memory", "--no-plots", "--out", str(tmp_path)]) == 0
    (row,) = json.loads(next(tmp_path.glob("*.json")).read_text())["rows"]
    assert (row["peer"], row["runtime"], row["threads"], row["input_size"]) == (True, "litert", 1, 256)
    assert row["size_bytes"] == PEER.stat().st_size
    assert 0 < row["latency_p50_ms"] <= row["latency_p90_ms"] <= row["latency_p99_ms"]
    assert row["partitions"] >= 1
    assert row["mpjpe_mm"] is None  # peers are timed, not scored
    wrong = tmp_path / "wrong-input"
    assert bench_main(["--peer", str(PEER), "--peer-input", "224", "--no-memory", "--out", str(wrong)]) == 1
    (failed,) = json.loads(next(wrong.glob("*.json")).read_text())["rows"]
    assert failed["status"] == EXPORT_FAILED
    assert "takes input (1, 256, 256, 3), not 224x224; fix --peer-input" in failed["reason"]
