"""The validation slice held out of a training split, so that ``best.pt`` is never chosen on a test split.

Human3.6M: for each training subject, every camera of the second recording (subaction 2) of one action. The action
is the subject's ``subject mod n``-th (0-based) of the ``n`` actions it has, in action order; on the complete
dataset (15 actions) that is S1 Discussion, S5 Posing, S6 Purchases, S7 Sitting, S8 SittingDown, S9 Smoking and S11
Waiting (S11 only when a custom split trains on it): about 1/30 of each subject's frames, at the training stride.
Whole recordings are held out, all cameras together, so no held-out pose is trained on from another view.

MuCo-3DHP: every image whose id is a multiple of 30. Its composites reuse the frames of a few MPI-INF-3DHP
subjects, so this slice tracks fitting rather than generalisation; MuPoTS-3D stays the test set.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from mhp.data import split_entry
from mhp.data.annotations import Annotations
from mhp.data.io import DatasetError

HELD_OUT_SUBACTION = 2
MUCO_EVERY = 30
HOLDOUT_DATASETS = ("h36m", "muco")
_SEQUENCE = re.compile(r"s_(\d+)_act_(\d+)_subact_(\d+)_ca_\d+")


def default_validation(entries: Sequence[str], *, lift: bool) -> str:
    """The entry a run validates on without ``--val-data``: an image model's first 3D entry, a lifter's first
    Human3.6M or MuCo entry (else synthetic people)."""
    if lift:
        return next((e for e in entries if split_entry(e)[0] in HOLDOUT_DATASETS), "synthetic")
    return entries[0] if entries else "synthetic"


def h36m_recordings(table: Annotations) -> np.ndarray:
    """``(N, 3)`` subject, action index and subaction index of each sample, read from its image folder."""
    out = np.zeros((len(table), 3), np.int64)
    for i, path in enumerate(table.image_paths):
        match = _SEQUENCE.search(path.decode("utf-8"))
        if match is None:
            raise DatasetError(
                f"{table.root / path.decode('utf-8')}: not in a s_SS_act_AA_subact_BB_ca_CC folder, so its recording "
                "is unknown; keep Human3.6M's folder names"
            )
        out[i] = [int(g) for g in match.groups()]
    return out


def held_out_actions(recordings: np.ndarray) -> dict[int, int]:
    """Subject -> the action index whose subaction 2 is held out (see the module docstring)."""
    chosen = {}
    for subject in np.unique(recordings[:, 0]):
        actions = np.unique(recordings[recordings[:, 0] == subject, 1])
        chosen[int(subject)] = int(actions[int(subject) % len(actions)])
    return chosen


def validation_mask(table: Annotations) -> np.ndarray:
    """Which samples of a Human3.6M or MuCo-3DHP training table form the held-out validation slice."""
    if table.name == "h36m":
        recordings = h36m_recordings(table)
        if len(recordings) == 0:
            return np.zeros(0, bool)
        chosen = held_out_actions(recordings)
        action = np.array([chosen[int(s)] for s in recordings[:, 0]])
        return (recordings[:, 1] == action) & (recordings[:, 2] == HELD_OUT_SUBACTION)
    if table.name == "muco":
        return table.image_ids % MUCO_EVERY == 0
    raise DatasetError(
        f"{table.name} has no held-out validation slice (only {' and '.join(HOLDOUT_DATASETS)}, which have 3D poses)"
    )


def split_validation(table: Annotations) -> tuple[Annotations, Annotations]:
    """(the samples to train on, the held-out validation slice) of a training table."""
    held = validation_mask(table)
    if not held.any():
        raise DatasetError(
            f"{table.name} {table.root}: the held-out validation slice is empty (it needs subaction 2 recordings for "
            "Human3.6M, or 30+ MuCo images); pass --val-data none or --val-data synthetic"
        )
    if held.all():
        raise DatasetError(f"{table.name} {table.root}: every sample would be held out for validation; add data")
    return table.select(~held, "train-fit"), table.select(held, "val")


def describe_slice(val: Annotations) -> str:
    """What a held-out slice (from :func:`split_validation`) holds, in a few words."""
    if val.name == "h36m":
        recordings = h36m_recordings(val)
        action_names = {int(r[1]): val.group_names[c] for r, c in zip(recordings, val.group_codes, strict=True)}
        parts = [f"S{s} {action_names[a]}" for s, a in sorted(held_out_actions(recordings).items())]
        return f"held-out recordings (subaction {HELD_OUT_SUBACTION}, all cameras) {', '.join(parts)}"
    return f"held-out images (id multiple of {MUCO_EVERY})"
