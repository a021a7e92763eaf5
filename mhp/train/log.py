"""Run feedback: a progress line (loss, images/s, ETA), a CSV log, TensorBoard scalars. Rank 0 only."""

from __future__ import annotations

import csv
import io
import sys
import time
import types
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from mhp.util.fileio import DISK_FULL, disk_full_error, write_text_atomic

if TYPE_CHECKING:
    from torch.utils.tensorboard import SummaryWriter

STEP_FIELDS = ("time", "time_utc", "epoch", "step", "lr", "loss")  # every run's log.csv starts with these
CSV_FIELDS = (
    *STEP_FIELDS,
    "loss_geo",
    "loss_limb",
    "images_per_s",
    "gpu_peak_mib",
    "val_mpjpe_mm",
)


def trim_log(path: Path, last_step: int, fields: tuple[str, ...] = CSV_FIELDS) -> None:
    """Make ``log.csv`` end where the checkpoint being resumed does, rewritten atomically: a row a kill cut
    short is dropped, and so are the rows of steps after ``last_step`` (they are about to be logged again)."""
    if not path.exists():
        return
    text, lines = complete_lines(path)
    kept = io.StringIO()
    writer = csv.DictWriter(kept, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(row for row in csv.DictReader(lines) if logged_step(row) <= last_step)
    if kept.getvalue() != text:
        write_text_atomic(path, kept.getvalue())


def complete_lines(path: Path) -> tuple[str, list[str]]:
    """``log.csv``'s text, and its lines without a last row a kill cut short (no line end)."""
    with open(path, newline="", errors="replace") as f:
        text = f.read()
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines.pop()
    return text, lines


def iso_utc(seconds: float) -> str:
    """``2026-12-03T22:35:01.123Z``: a Unix time as people and spreadsheets read it."""
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def logged_step(row: dict[str | None, Any]) -> float:
    """The global step of a ``log.csv`` row; infinity for a row without a readable one."""
    try:
        return int(row.get("step") or "")
    except ValueError:
        return float("inf")


def summary_writer(folder: Path, *, purge_step: int) -> SummaryWriter:
    """A TensorBoard writer that hides the events a killed run logged from ``purge_step`` on.

    With TensorFlow installed, TensorBoard imports all of it (8 s) for file access alone; its TensorFlow-free
    stub writes the same event files, and ``tensorboard.compat.notf`` is the switch that selects it.
    """
    sys.modules.setdefault("tensorboard.compat.notf", types.ModuleType("tensorboard.compat.notf"))
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(str(folder), purge_step=purge_step)


def format_seconds(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


class RunLog:
    """Everything a run reports; every method is a no-op on ranks other than 0."""

    def __init__(
        self,
        out: Path,
        *,
        enabled: bool,
        stream: TextIO | None = None,
        resume_step: int = 0,
        fields: tuple[str, ...] = CSV_FIELDS,
    ) -> None:
        """``resume_step``: the global step of the checkpoint this run continues from (0 for a new run); the
        log's rows after it are dropped, since those steps are trained again. ``fields``: the CSV columns."""
        self.enabled, self.stream, self.fields = enabled, stream or sys.stderr, fields
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.tensorboard = None
        self.csv_path = out / "log.csv"
        if not enabled:
            return
        trim_log(self.csv_path, resume_step, fields)
        new = not self.csv_path.exists()
        self.csv_file = open(self.csv_path, "a", newline="")  # noqa: SIM115 - open for the whole run
        self.csv = csv.DictWriter(self.csv_file, fieldnames=fields)
        if new:
            self.csv.writeheader()
        try:
            self.tensorboard = summary_writer(out / "tensorboard", purge_step=resume_step + 1)
        except ImportError:
            self.message("TensorBoard logging off: pip install tensorboard (the 'train' extra) to get it")

    def message(self, text: str) -> None:
        if self.enabled:
            if self.tty:
                self.stream.write("\r\033[K")
            print(text, file=self.stream, flush=True)

    def progress(
        self, epoch: int, epochs: int, step: int, steps: int, loss: float, rate: float, eta: float, unit: str = "img"
    ) -> None:
        if not self.enabled:
            return
        done = int(20 * step / max(steps, 1))
        line = (
            f"epoch {epoch + 1}/{epochs} [{'#' * done}{'.' * (20 - done)}] {step}/{steps} "
            f"loss {loss:.4f} {rate:.1f} {unit}/s ETA {format_seconds(eta)}"
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
        row = {k: values.get(k, "") for k in self.fields}
        now = time.time()
        row["time"], row["time_utc"] = round(now, 3), iso_utc(now)
        try:
            self.csv.writerow(row)
            self.csv_file.flush()
        except OSError as exc:
            if exc.errno in DISK_FULL:
                raise disk_full_error(self.csv_path, exc) from None
            raise
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
