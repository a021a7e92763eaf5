"""Whole frames, timed: the bundled person detector, then for each person the crop, the pose model and the decode
(mhp), beside MediaPipe's pipeline under the same LiteRT settings: the same detector, then for each person the
region warped to the landmark model's input and the model run (a ``--peer`` such as BlazePose GHUM full).

One camera-sized frame (a synthetic scene, 640x480) is timed with ``n`` people: the detector runs once on the
frame, the pose model ``n`` times, on the detector's first box repeated (so that every row does the same work
whatever the detector finds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from mhp.bench.host import Target, base_row
from mhp.bench.latency import time_calls
from mhp.bench.machine import Machine
from mhp.bench.schema import NOT_SCORED, BenchRow
from mhp.data.transforms import warp_patch
from mhp.geometry import bbox_crop_affine, process_bbox
from mhp.infer.blazepose import BlazePoseDetector, body_box, region_of
from mhp.infer.boxes import centred_box

FRAME_SIZE = (640, 480)


def pipeline_frame(size: tuple[int, int] = FRAME_SIZE) -> np.ndarray:
    """A camera-sized RGB frame with one synthetic person."""
    from mhp.data.synthetic import SyntheticHumans

    scenes = SyntheticHumans(1, seed=5, image_size=size)
    return np.ascontiguousarray(scenes.load_image(0)[..., ::-1])


def people_boxes(detector: BlazePoseDetector, frame: np.ndarray, count: int) -> list[np.ndarray]:
    """``count`` person boxes: the detector's best, repeated (the centred box when it finds nobody)."""
    found = detector.detect(frame)
    box = body_box(found[0]) if found else centred_box(frame.shape[1], frame.shape[0])
    return [box] * count


def mhp_frame(detector: BlazePoseDetector, predictor, frame: np.ndarray, count: int) -> Callable[[], object]:
    boxes = people_boxes(detector, frame, count)

    def run() -> object:
        detector.detect(frame)
        return predictor.predict(frame, boxes=boxes)

    return run


def mediapipe_frame(detector: BlazePoseDetector, peer, frame: np.ndarray, count: int) -> Callable[[], object]:
    """MediaPipe's per-frame work: detect, then per person warp its region to the landmark input and run it."""
    regions = [region_of(box) for box in people_boxes(detector, frame, count)]
    size = peer.input_size

    def run() -> object:
        detector.detect(frame)
        for region in regions:
            affine = bbox_crop_affine(process_bbox(region, frame.shape[1], frame.shape[0]), (size, size))
            peer.run_one(warp_patch(frame, affine, size).transpose(2, 0, 1)[None].astype(np.float32))

    return run


def pipeline_rows(
    targets: list[Target],
    peers: list[Target],
    counts: tuple[int, ...],
    threads: tuple[int, ...],
    machine: Machine,
    *,
    warmup: int,
    runs: int,
    on_row: Callable[[BenchRow], None],
) -> list[BenchRow]:
    """One row per (pipeline, thread count, people count): each image artifact with the detector, and each peer
    in MediaPipe's pipeline."""
    from mhp.bench.peer import PeerRunner
    from mhp.infer.predictor import Predictor

    frame = pipeline_frame()
    rows = []
    for target in [*targets, *peers]:
        for count_threads in threads:
            detector = BlazePoseDetector(threads=count_threads)
            if target.peer_input:
                runner = PeerRunner(target.path, input_size=target.peer_input, threads=count_threads)
                label, make = f"pose_detection + {target.name}", mediapipe_frame
            else:
                runner = Predictor(target.path, runtime=target.runtime, threads=count_threads)
                label, make = f"pose_detection + {Path(target.path).name}", mhp_frame
            for count in counts:
                stats = time_calls(make(detector, runner, frame, count), warmup=warmup, runs=runs)
                row = replace(
                    base_row(target, count_threads, machine),
                    model=f"pipeline, {count} {'person' if count == 1 else 'people'}: {label}",
                    status=NOT_SCORED,
                    reason=f"per {FRAME_SIZE[0]}x{FRAME_SIZE[1]} frame: detector, then crop + pose + decode per person",
                    peer=bool(target.peer_input),
                    warmup=stats.warmup,
                    runs=stats.runs,
                    latency_p50_ms=round(stats.p50_ms, 3),
                    latency_p90_ms=round(stats.p90_ms, 3),
                    latency_p99_ms=round(stats.p99_ms, 3),
                    latency_mean_ms=round(stats.mean_ms, 3),
                    latency_min_ms=round(stats.min_ms, 3),
                    throughput_fps=round(stats.throughput_fps, 2),
                )
                on_row(row)
                rows.append(row)
    return rows
