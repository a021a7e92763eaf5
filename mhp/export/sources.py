"""Where an export's INT8 calibration and parity data come from: the checkpoint's own data unless told otherwise.

A run trained on real data (its config records ``data_3d`` / ``data_2d`` entries ``NAME=ROOT``) is calibrated on
evenly spaced evaluation crops of the part of its first real dataset it trains on (Human3.6M / MuCo-3DHP without
the held-out validation slice) and gated on the slice it validated on (``val_data``; default the held-out slice of
its first 3D set), so the parity MPJPEs come from its own distribution. A run on synthetic humans uses synthetic
scenes, which are its data. ``--calib-data NAME=ROOT|DIR|synthetic`` and ``--parity-data NAME=ROOT|synthetic`` choose
otherwise; a recorded root that is not a folder here stops the export with those fixes, never falling back to
synthetic scenes in silence. A checkpoint without a config (an original snapshot) needs ``--calib-data``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from mhp.data import SYNTHETIC, dataset_info, read_dataset, split_entry
from mhp.data.annotations import Annotations
from mhp.data.holdout import HOLDOUT_DATASETS, default_validation, describe_slice, validation_mask
from mhp.errors import MhpError
from mhp.eval.parity import HELD_OUT_SEED, ParitySet, parity_set
from mhp.export.calibration import (
    CalibrationSet,
    check_calibration_count,
    folder_calibration,
    synthetic_calibration,
    synthetic_scenes,
    table_calibration,
)

CALIB_DATASETS = ("h36m", "muco", "mpii", "coco")
TRAINING_DATA = "the checkpoint's training data"
VALIDATION_DATA = "the checkpoint's validation data"
NO_RECORD = "the checkpoint records no training data"
NOT_ITS_DATA = "not this model's data"


@dataclass(frozen=True)
class DataChoice:
    """Resolved data: ``kind`` synthetic scenes, a ``dataset`` ``name`` at ``root``, or an image ``folder`` root;
    ``origin`` says why (its own data, a flag)."""

    kind: str
    origin: str
    name: str = ""
    root: Path | None = None


def training_entries(config: dict[str, Any]) -> list[str]:
    """The data entries a recorded run trained on, in order (3D sets first; a lifter's by its supervision)."""
    data_3d, data_2d = list(config.get("data_3d") or []), list(config.get("data_2d") or [])
    if config.get("task") == "lift":
        if config.get("supervision", "3d") == "3d":
            return data_3d or [SYNTHETIC]
        return data_2d or data_3d or [SYNTHETIC]
    return (data_3d or [SYNTHETIC]) + data_2d


def validation_entry(config: dict[str, Any]) -> str:
    """The entry a recorded run validated on (for ``--val-data none``: the slice it would have held out)."""
    val_data = config.get("val_data")
    if val_data and str(val_data).strip().lower() != "none":
        return str(val_data)
    lift = config.get("task") == "lift"
    return default_validation(training_entries(config) if lift else list(config.get("data_3d") or []), lift=lift)


def flag_choice(value: str, flag: str, datasets: tuple[str, ...], config: dict[str, Any]) -> DataChoice:
    """``synthetic``, ``NAME=ROOT`` (one of ``datasets``) or, for ``--calib-data``, a folder of images."""
    name, root = split_entry(value)
    if name == SYNTHETIC and root is None:
        return DataChoice(SYNTHETIC, f"{flag} synthetic{synthetic_note(config)}")
    if "=" not in value:
        if flag == "--calib-data":
            return DataChoice("folder", f"{flag} {value}", root=Path(value))
        raise MhpError(f"{flag} {value}: pass NAME=ROOT ({', '.join(datasets)}) or synthetic")
    if name not in datasets or root is None:
        raise MhpError(f"{flag} {value}: pass NAME=ROOT with NAME one of {', '.join(datasets)}, or synthetic")
    if not root.is_dir():
        raise MhpError(f"{flag} {value}: {root} is not a folder; it should hold {dataset_info(name).layout}")
    return DataChoice("dataset", f"{flag} {value}", name, root)


def synthetic_note(config: dict[str, Any]) -> str:
    """What explicit synthetic scenes are to this checkpoint: its own data, or not (or nothing recorded)."""
    if not config:
        return f"; {NO_RECORD}"
    return "" if {split_entry(e)[0] for e in training_entries(config)} == {SYNTHETIC} else f"; {NOT_ITS_DATA}"


def recorded_choice(entry: str, origin: str, fix: str) -> DataChoice:
    """The recorded entry as a choice; a root that is not a folder here stops with ``fix``."""
    name, root = split_entry(entry)
    if root is None:
        return DataChoice(SYNTHETIC, origin)
    if not root.is_dir():
        use, done = ("INT8 calibration", "trained") if origin == TRAINING_DATA else ("parity check", "validated")
        raise MhpError(f"{use}: the checkpoint was {done} on {name} at {root}, which is not a folder here; pass {fix}")
    return DataChoice("dataset", origin, name, root)


def calibration_choice(calib: str | None, config: dict[str, Any]) -> DataChoice:
    """``--calib-data`` if given, else the first real dataset the recorded run trained on, else its synthetic scenes."""
    if calib:
        return flag_choice(calib, "--calib-data", CALIB_DATASETS, config)
    if not config:
        raise MhpError(
            f"INT8 calibration: {NO_RECORD} (an original snapshot?); pass --calib-data NAME=ROOT (its training data), "
            "--calib-data DIR (images) or --calib-data synthetic (synthetic scenes)"
        )
    entries = training_entries(config)
    real = next((e for e in entries if split_entry(e)[0] != SYNTHETIC), SYNTHETIC)
    fix = (
        f"--calib-data {split_entry(real)[0]}=ROOT (where the data is now), --calib-data DIR (images) "
        f"or --calib-data synthetic (synthetic scenes; {NOT_ITS_DATA})"
    )
    return recorded_choice(real, TRAINING_DATA, fix)


def parity_choice(parity_data: str | None, config: dict[str, Any]) -> DataChoice:
    """``--parity-data`` if given, else the recorded run's validation data; synthetic scenes for no record."""
    if parity_data:
        return flag_choice(parity_data, "--parity-data", HOLDOUT_DATASETS, config)
    if not config:
        return DataChoice(SYNTHETIC, NO_RECORD)
    entry = validation_entry(config)
    name = split_entry(entry)[0]
    if name not in (SYNTHETIC, *HOLDOUT_DATASETS):
        raise MhpError(f"the checkpoint validated on {entry}, which has no 3D poses; pass --parity-data NAME=ROOT")
    fix = (
        f"--parity-data {name}=ROOT (where the data is now), --parity-data synthetic "
        f"(synthetic scenes; {NOT_ITS_DATA}) or --no-check"
    )
    choice = recorded_choice(entry, VALIDATION_DATA, fix)
    trained_on_it = str(config.get("val_data") or "").strip().lower() == "none" and choice.kind != SYNTHETIC
    return replace(choice, origin=f"{VALIDATION_DATA} (--val-data none: trained on)") if trained_on_it else choice


def evenly_spaced(total: int, count: int) -> np.ndarray:
    """``min(count, total)`` indices spread evenly over ``range(total)``, first and last included."""
    return np.unique(np.linspace(0, total - 1, num=min(count, total), dtype=int)) if total else np.zeros(0, int)


def training_part(table: Annotations) -> Annotations:
    """The samples a run trains on: a Human3.6M / MuCo training split without its held-out validation slice."""
    if table.name not in HOLDOUT_DATASETS:
        return table
    held = validation_mask(table)
    return table if held.all() else table.select(~held, "train-fit")


def held_out_part(table: Annotations) -> Annotations:
    """The held-out validation slice of a Human3.6M / MuCo training split (``mhp.data.holdout``)."""
    held = validation_mask(table)
    if not held.any():
        raise MhpError(
            f"{table.name} {table.root}: the held-out validation slice is empty (it needs subaction 2 recordings "
            "for Human3.6M, or 30+ MuCo images); pass --parity-data synthetic"
        )
    return table.select(held, "val")


def read_train_split(choice: DataChoice, config: dict[str, Any], tables: dict | None = None) -> Annotations:
    """The training split of a dataset choice (read once per export when both calls share ``tables``)."""
    key = (choice.name, str(choice.root), int(config.get("protocol", 2)))
    tables = {} if tables is None else tables
    if key not in tables:
        tables[key] = read_dataset(choice.name, choice.root, "train", protocol=key[2])
    return tables[key]


def describe_part(table: Annotations) -> str:
    """``h36m train (S1, S5, S6, S7, S8; held-out validation slice left out)``: the dataset, its subjects (Human3.6M)
    and whether the validation slice was taken out."""
    notes = [", ".join(f"S{s}" for s in np.unique(table.subjects))] if table.name == "h36m" else []
    notes += ["held-out validation slice left out"] if table.split == "train-fit" else []
    return f"{table.name} train" + (f" ({'; '.join(notes)})" if notes else "")


def image_calibration(
    choice: DataChoice, model, config: dict[str, Any], count: int, tables: dict | None = None
) -> CalibrationSet:
    """The calibration crops ``choice`` names, with a description (the log line and the manifest say it)."""
    if choice.kind == "folder":
        calib = folder_calibration(choice.root, model.input_size)
        what = f"{len(calib.pixels)} crops of the images in {choice.root}"
    elif choice.kind == SYNTHETIC:
        calib = synthetic_calibration(model, config, count)
        what = f"synthetic scenes (seed {int(config.get('seed', 0))}), {count} crops"
    else:
        check_calibration_count(count)
        table = training_part(read_train_split(choice, config, tables))
        picks = evenly_spaced(len(table), count)
        calib = table_calibration(model, table, picks, source=f"{choice.name}={choice.root}")
        what = f"{describe_part(table)}, {len(picks)} of {len(table)} crops"
    return replace(calib, description=f"{what}; {choice.origin}")


def image_parity_set(
    choice: DataChoice, model, config: dict[str, Any], samples: int, tables: dict | None = None
) -> tuple[ParitySet, str]:
    """The parity crops ``choice`` names, and what they are in words (the log line and the manifest say it)."""
    if samples < 1:
        raise MhpError("--parity-samples must be at least 1")
    if choice.kind == SYNTHETIC:
        scenes = synthetic_scenes(model, config, samples, seed=HELD_OUT_SEED)
        label = f"synthetic held-out scenes (seed {HELD_OUT_SEED}), {samples} crops; {choice.origin}"
        return parity_set(model, scenes), label
    val = held_out_part(read_train_split(choice, config, tables))
    picks = evenly_spaced(len(val), samples)
    label = f"{val.name} {describe_slice(val)}, {len(picks)} of {len(val)} crops; {choice.origin}"
    return parity_set(model, val, picks), label
