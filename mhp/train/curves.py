"""``results.png``: a run's training curves (loss | validation mm, per epoch) drawn from its own ``log.csv``."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from mhp.train.log import complete_lines
from mhp.util.fileio import atomic_path
from mhp.util.optional import require


def number(text: str | None) -> float | None:
    """A CSV cell as a float; None when empty or unreadable."""
    try:
        return float(text) if text else None
    except ValueError:
        return None


def complete_rows(path: Path) -> list[dict[str, str]]:
    """The rows of ``log.csv`` with every column present; a last row a kill cut short is dropped."""
    _, lines = complete_lines(path)
    return [row for row in csv.DictReader(lines) if None not in row.values() and None not in row]


def val_label(column: str) -> str:
    """``val_pa_mpjpe_mm`` -> ``PA-MPJPE``, as the run's epoch lines name it."""
    return column.removeprefix("val_").removesuffix("_mm").upper().replace("_", "-")


def epoch_curves(log_csv_path: str | Path) -> dict[str, np.ndarray]:
    """Per epoch: ``epoch``; ``loss``, the mean of the epoch's logged step losses; each ``val_*_mm`` column
    with a finite value, the value logged at the epoch's end. NaN where an epoch has none."""
    rows = complete_rows(Path(log_csv_path))
    columns = [c for c in (rows[0] if rows else {}) if c.startswith("val_") and c.endswith("_mm")]
    losses: dict[int, list[float]] = {}
    vals: dict[str, dict[int, float]] = {c: {} for c in columns}
    for row in rows:
        epoch = number(row["epoch"])
        if epoch is None:
            continue
        loss = number(row.get("loss"))
        if loss is not None:
            losses.setdefault(int(epoch), []).append(loss)
        for column in columns:
            value = number(row[column])
            if value is not None:
                vals[column][int(epoch)] = value
    epochs = sorted(set(losses).union(*(v.keys() for v in vals.values())))
    curves = {
        "epoch": np.array(epochs, dtype=int),
        "loss": np.array([np.mean(losses[e]) if e in losses else np.nan for e in epochs], dtype=float),
    }
    for column, by_epoch in vals.items():
        if any(math.isfinite(v) for v in by_epoch.values()):
            curves[column] = np.array([by_epoch.get(e, np.nan) for e in epochs], dtype=float)
    return curves


def write_results_png(log_csv_path: str | Path, png_path: str | Path, title: str) -> dict[str, np.ndarray]:
    """Draw ``log_csv_path``'s curves to ``png_path`` (atomically); returns the curves as read back from the
    plotted lines, keyed like :func:`epoch_curves`."""
    figure_module = require("matplotlib.figure")
    backend_agg = require("matplotlib.backends.backend_agg")  # Agg: no display, and no pyplot global state
    ticker = require("matplotlib.ticker")
    curves = epoch_curves(log_csv_path)
    fig = figure_module.Figure(figsize=(10, 4), dpi=100)
    backend_agg.FigureCanvasAgg(fig)
    loss_ax, val_ax = fig.subplots(1, 2)
    epochs = curves["epoch"]
    loss_ax.plot(epochs, curves["loss"], "o-", gid="loss")
    loss_ax.set_ylabel("loss (mean of the epoch's logged steps)")
    for column in (c for c in curves if c.startswith("val_")):
        val_ax.plot(epochs, curves[column], "o-", gid=column, label=val_label(column))
    if val_ax.lines:
        val_ax.legend()
    else:
        val_ax.text(0.5, 0.5, "no validation scores logged", ha="center", va="center", transform=val_ax.transAxes)
    val_ax.set_ylabel("validation error (mm)")
    for ax, name in ((loss_ax, "training loss"), (val_ax, "validation")):
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(png_path) as tmp:
        fig.savefig(tmp, format="png")
    plotted = {"epoch": np.asarray(loss_ax.lines[0].get_xdata(), dtype=int)}
    lines = [*loss_ax.lines, *val_ax.lines]
    return plotted | {line.get_gid(): np.asarray(line.get_ydata(), dtype=float) for line in lines}
