"""Training-input throughput: samples/s of PoseDataset + DataLoader with 0, 1 and 2 workers.

Writes a Human3.6M-format synthetic set with 1000x1000 JPEGs to a temporary folder, then times whole
epochs of the protocol-2 training split (batch 32, LPSKI crop config, full augmentation) with JPEG decoding
at full resolution and at reduced scale where the crop allows it. Also times on-the-fly synthetic humans.

    .venv/bin/python benchmarks/data_throughput.py --out benchmarks/results
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from mhp.data import read_dataset
from mhp.data.dataset import CropConfig, PoseDataset
from mhp.data.h36m_writer import write_h36m
from mhp.data.mix import EpochShuffleSampler
from mhp.data.synthetic import SyntheticHumans
from mhp.skeleton import H36M


def epoch_rate(dataset: PoseDataset, workers: int, epochs: int, batch: int = 32) -> float:
    """Median samples/s over ``epochs`` full passes (worker start-up included, as a training epoch pays it)."""
    sampler = EpochShuffleSampler(len(dataset), seed=0)
    loader = DataLoader(dataset, batch_size=batch, sampler=sampler, num_workers=workers)
    rates = []
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        dataset.set_epoch(epoch)
        start = time.perf_counter()
        count = sum(len(b["index"]) for b in loader)
        rates.append(count / (time.perf_counter() - start))
    return statistics.median(rates)


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results", help="folder for data_throughput.{json,md}")
    parser.add_argument("--frames", type=int, default=30, help="frames per sequence (step 5: all are training frames)")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        write_h36m(tmp, actions=(2,), subactions=(1,), frames=args.frames, frame_step=5, image_size=(1000, 1000))
        write_seconds = time.perf_counter() - start
        annotations = read_dataset("h36m", tmp, "train", protocol=2)
        for reduced in (False, True):
            dataset = PoseDataset(annotations, H36M, CropConfig(), train=True, fast_decode=reduced)
            for workers in (0, 1, 2):
                rate = epoch_rate(dataset, workers, args.epochs)
                results.append(
                    {
                        "source": "h36m jpeg 1000x1000",
                        "reduced_decode": reduced,
                        "workers": workers,
                        "samples_per_s": round(rate, 1),
                    }
                )
                print(results[-1], flush=True)
    synthetic = PoseDataset(SyntheticHumans(len(annotations), seed=0), H36M, CropConfig(), train=True)
    for workers in (0, 1, 2):
        rate = epoch_rate(synthetic, workers, args.epochs)
        results.append(
            {
                "source": "synthetic on the fly 512x512",
                "reduced_decode": False,
                "workers": workers,
                "samples_per_s": round(rate, 1),
            }
        )
        print(results[-1], flush=True)
    machine = f"{cpu_name()}, {torch.get_num_threads()} torch thread(s) per process, torch {torch.__version__}"
    payload = {
        "command": "python benchmarks/data_throughput.py",
        "machine": machine,
        "samples_per_epoch": len(annotations),
        "epochs": args.epochs,
        "batch_size": 32,
        "write_seconds": round(write_seconds, 1),
        "results": results,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "data_throughput.json").write_text(json.dumps(payload, indent=2) + "\n")
    lines = [
        "# Training-input throughput",
        "",
        f"Command: `{payload['command']}`  ",
        f"Machine: {machine}.  ",
        f"{len(annotations)} training samples (Human3.6M protocol 2, synthetic, 1000x1000 JPEG), batch 32, full "
        f"augmentation, LPSKI crop (256 px, 32^3 targets); median samples/s of {args.epochs} whole epochs.",
        "",
        "| source | reduced JPEG decode | workers | samples/s |",
        "|---|---|---|---|",
        *(
            f"| {r['source']} | {'yes' if r['reduced_decode'] else 'no'} | {r['workers']} | {r['samples_per_s']} |"
            for r in results
        ),
        "",
    ]
    (out / "data_throughput.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
