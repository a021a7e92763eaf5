"""mhp-bench --pipeline: whole frames (detector, then crop + pose + decode per person) beside MediaPipe's pipeline."""

import json
import os

import numpy as np
import pytest

from mhp.bench.pipeline import mediapipe_frame, mhp_frame, pipeline_frame
from mhp.bench.report import comparisons, workload
from mhp.bench.schema import BenchRow
from mhp.cli.bench import main as bench_main
from mhp.infer.blazepose import BUNDLED, BlazePoseDetector
from mhp.infer.predictor import Predictor

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def detector():
    if not BUNDLED.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{BUNDLED} is missing on CI: make test runs make detector")
        pytest.skip("run make detector")
    return BlazePoseDetector()


class CountingPeer:
    """A landmark model stand-in that records the inputs it is given."""

    input_size = 256

    def __init__(self):
        self.inputs = []

    def run_one(self, pixels):
        self.inputs.append(pixels.shape)


def test_one_frame_runs_the_detector_once_and_the_pose_model_per_person(detector, small_relu_export):
    frame = pipeline_frame()
    assert frame.shape == (480, 640, 3)
    predictor = Predictor(small_relu_export[0] / "lpski_int8.tflite")
    people = mhp_frame(detector, predictor, frame, 3)()
    assert len(people) == 3  # three crops, posed and decoded
    peer = CountingPeer()
    mediapipe_frame(detector, peer, frame, 3)()
    assert peer.inputs == [(1, 3, 256, 256)] * 3  # MediaPipe's landmark model once per person, at its own input


def test_mhp_bench_pipeline_rows_compare_with_the_same_work_only(detector, small_relu_export, tmp_path):
    export, _ = small_relu_export
    argv = ["--artifacts", str(export / "lpski_int8.tflite"), "--threads", "1", "--pipeline", "1,3"]
    argv += ["--runs", "2", "--warmup", "0", "--no-accuracy", "--no-memory", "--no-plots", "--out", str(tmp_path)]
    assert bench_main(argv) == 0
    (report,) = tmp_path.glob("bench-*.json")
    rows = [BenchRow(**r) for r in json.loads(report.read_text())["rows"]]
    pipelines = [r for r in rows if r.model.startswith("pipeline")]
    assert sorted(workload(r) for r in pipelines) == ["pipeline, 1 person", "pipeline, 3 people"]
    assert {r.artifact for r in pipelines} == {str(export / "lpski_int8.tflite")}
    assert all(r.status == "latency only" and r.runs == 2 and r.latency_p50_ms > 0 for r in pipelines)
    peer = BenchRow(**{**pipelines[0].to_dict(), "model": "pipeline, 3 people: pose_detection + peer", "peer": True})
    pairs = comparisons([*rows, peer])
    assert {(workload(c.row), workload(c.peer)) for c in pairs} == {("pipeline, 3 people", "pipeline, 3 people")}
    assert np.isfinite([c.ratio for c in pairs]).all()
