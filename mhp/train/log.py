"""Run feedback: a progress line (loss, images/s, ETA), a CSV log, TensorBoard scalars. Rank 0 only."""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path
from typing import Any, TextIO

CSV_FIELDS = ("time", "epoch", "step", "lr", "loss", "loss_geo", "images_per_s", "val_mpjpe_mm")


def format_seconds(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


class RunLog:
    """Everything a run reports; every method is a no-op on ranks other than 0."""

    def __init__(self, out: Path, *, enabled: bool, stream: TextIO | None = None) -> None:
        self.enabled, self.stream = enabled, stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.tensorboard = None
        self.csv_path = out / "log.csv"
        if not enabled:
            return
        new = not self.csv_path.exists()
        self.csv_file = open(self.csv_path, "a", newline="")  # noqa: SIM115 - open for the whole run
        self.csv = csv.DictWriter(self.csv_file, fieldnames=CSV_FIELDS)
        if new:
            self.csv.writeheader()
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.tensorboard = SummaryWriter(str(out / "tensorboard"))
        except ImportError:
            self.message("TensorBoard logging off: pip install tensorboard (the 'train' extra) to get it")

    def message(self, text: str) -> None:
        if self.enabled:
            if self.tty:
                self.stream.write("\r\033[K")
            print(text, file=self.stream, flush=True)

    def progress(self, epoch: int, epochs: int, step: int, steps: int, loss: float, rate: float, eta: float) -> None:
        if not self.enabled:
            return
        done = int(20 * step / max(steps, 1))
        line = (
            f"epoch {epoch + 1}/{epochs} [{'#' * done}{'.' * (20 - done)}] {step}/{steps} "
            f"loss {loss:.4f} {rate:.1f} img/s ETA {format_seconds(eta)}"
        )
        if self.tty:
            self.stream.write("\r\033[K" + line)
            self.stream.flush()
        else:
            print(line, file=self.stream, flush=True)

    def scalars(self, tb_step: int, **values: Any) -> None:
        """One CSV row and the matching TensorBoard scalars."""
        if not self.enabled:
            return
        row = {k: values.get(k, "") for k in CSV_FIELDS}
        row["time"] = round(time.time(), 3)
        self.csv.writerow(row)
        self.csv_file.flush()
        if self.tensorboard is not None:
            for key, value in values.items():
                if key in ("epoch", "step") or value in ("", None):
                    continue
                self.tensorboard.add_scalar(key, float(value), tb_step)
            self.tensorboard.flush()

    def close(self) -> None:
        if self.enabled:
            self.csv_file.close()
            if self.tensorboard is not None:
                self.tensorboard.close()
