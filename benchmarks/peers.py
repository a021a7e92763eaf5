"""Full-size LPSKI (J=18, 256 px, ReLU) against MediaPipe BlazePose GHUM full, one run, same LiteRT settings.

``make bench-peers`` downloads the ``mediapipe==0.10.21`` wheel (not installed), unpacks
``pose_landmark_full.tflite`` from it, exports a randomly initialised LPSKI (its BatchNorm statistics measured,
see :func:`realistic_random_lpski`) to TFLite and ONNX, float32 and INT8, with mhp-export's own pipeline, and runs
``mhp-bench`` over them with the peer, latency only:

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


def realistic_random_lpski():
    """A randomly initialised LPSKI whose BatchNorm statistics are measured on noise crops, in eval mode.

    With the default statistics (mean 0, variance 1) the activations of a random network shrink layer by layer into
    float32 denormals (1e-44 at the last encoder layer), which ONNX Runtime's float kernels run ~10x slower than
    normal numbers (XNNPACK flushes them to zero). Measured statistics keep every layer at a trained network's
    scale, so the latency is what a trained model's is (it does not depend on the weights' values otherwise).
    """
    import torch

    import mhp

    torch.manual_seed(0)
    model = mhp.create_model("LPSKI", activation="relu")
    for layer in model.modules():
        if isinstance(layer, torch.nn.BatchNorm2d):
            layer.reset_running_stats()
            layer.momentum = None  # a plain average over the batches below
    model.train()
    pixels = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for _ in range(8):
            model(model.normalize(torch.rand(4, 3, 256, 256, generator=pixels) * 255))
    return model.eval()


def export_full_lpski(work: Path) -> Path:
    import mhp
    from mhp.config import ExportConfig
    from mhp.export.pipeline import export_checkpoint

    out = work / "export"
    if all((out / f"lpski_{p}.{f}.json").is_file() for p in ("fp32", "int8") for f in ("tflite", "onnx")):
        return out
    checkpoint = work / "lpski_relu_measured_bn.pt"
    mhp.save_checkpoint(checkpoint, realistic_random_lpski(), config={})
    for target in ("tflite", "onnx"):
        cfg = ExportConfig(
            checkpoint=str(checkpoint),
            target=target,
            precision=("fp32", "int8"),
            out=str(out),
            no_check=True,
            calib_data="synthetic",  # random weights: no training data to calibrate on
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
    argv += ["--runtimes", "litert,onnxruntime", "--no-accuracy", "--runs", args.runs, "--out", args.out]
    argv += ["--pipeline", "1,3"]
    return bench(argv)


if __name__ == "__main__":
    raise SystemExit(main())
