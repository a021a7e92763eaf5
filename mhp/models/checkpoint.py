"""mhp's checkpoint file: everything needed to rebuild the model, written atomically.

Layout (a plain dict, loadable with ``torch.load(..., weights_only=True)``)::

    format        "mhp.models.checkpoint"
    version       1
    model         registry name, e.g. "LPSKI"
    model_kwargs  every constructor argument (num_joints, width_mult, activation, normalization, ...)
    state_dict    the model's tensors
    config        the resolved command configuration (plain dict) or None
    ...           anything the trainer adds: optimizer, scheduler, epoch, rng state, metrics

:func:`load_checkpoint` also reads original MobileHumanPose / 3DMPPE snapshots (``mhp.models.convert``).
"""

from __future__ import annotations

import pickle
import re
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

import torch

from mhp.errors import CheckpointError
from mhp.models import create_model, resolve_model_name
from mhp.models.convert import is_original_snapshot, load_original_snapshot
from mhp.models.pose_model import IntegralPoseModel
from mhp.models.state import load_state_strict
from mhp.runtime import SUFFIXES
from mhp.util.fileio import atomic_path

FORMAT = "mhp.models.checkpoint"
VERSION = 1


def checkpoint_dict(model: IntegralPoseModel, *, config: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """The checkpoint content for ``model``; ``extra`` entries (optimizer state, epoch, ...) are kept as given."""
    if not model.model_name:
        raise CheckpointError("only models built with mhp.create_model can be saved (their arguments are recorded)")
    reserved = {"format", "version", "model", "model_kwargs", "state_dict", "config"} & set(extra)
    if reserved:
        raise CheckpointError(f"checkpoint extras may not use the reserved keys {sorted(reserved)}")
    return {
        "format": FORMAT,
        "version": VERSION,
        "model": model.model_name,
        "model_kwargs": dict(model.model_kwargs),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "config": config,
        **extra,
    }


def save_checkpoint(
    path: str | Path, model: IntegralPoseModel, *, config: dict[str, Any] | None = None, **extra: Any
) -> Path:
    """Write an mhp checkpoint atomically (temp file, fsync, rename): an old file survives a crash."""
    content = checkpoint_dict(model, config=config, **extra)
    path = Path(path)
    with atomic_path(path) as tmp:
        torch_save(content, tmp)
    return path


class _WriteErrors:
    """A binary file whose ``write`` keeps the OSError it raised (torch's writer hides it)."""

    def __init__(self, file: BinaryIO) -> None:
        self.file, self.error = file, None

    def write(self, data: bytes) -> int:
        try:
            return self.file.write(data)
        except OSError as exc:
            self.error = exc
            raise

    def flush(self) -> None:
        self.file.flush()


def torch_save(content: Any, path: Path) -> None:
    """``torch.save`` through a Python file: a full disk raises its OSError, not torch's opaque
    ``RuntimeError: [enforce fail at inline_container.cc] unexpected pos``."""
    with open(path, "wb") as f:
        writer = _WriteErrors(f)
        try:
            torch.save(content, writer)
        except RuntimeError:
            if writer.error is not None:
                raise writer.error from None
            raise
        except (pickle.PicklingError, AttributeError, TypeError) as exc:  # a lambda, a lock, an open file...
            raise CheckpointError(f"the checkpoint cannot be saved: a value in it cannot be pickled ({exc})") from None


def read_checkpoint(path: str | Path) -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU, with one-line errors for every way it fails."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} not found; check the path")
    if path.suffix in SUFFIXES:
        raise CheckpointError(
            f"{path} is an exported artifact, not a PyTorch checkpoint; score it with mhp-bench --artifacts {path} "
            "--data synthetic (or --data h36m=ROOT), or pass the checkpoint it was exported from"
        )
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} is not a file")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(exc))
        if found:
            raise CheckpointError(
                f"{path} holds a Python object ({found.group(1)}) that cannot be loaded safely; mhp reads only "
                "tensors, numbers, strings and containers (torch.load weights_only=True)"
            ) from None
        raise CheckpointError(f"{path} is corrupt or not a PyTorch checkpoint (unreadable pickle)") from None
    except (RuntimeError, EOFError, OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        reason = str(exc).splitlines()[0] if str(exc) and not isinstance(exc, KeyError) else "unreadable pickle"
        raise CheckpointError(f"{path} is corrupt or not a PyTorch checkpoint ({reason})") from None


def _load_mhp(
    content: dict[str, Any], *, source: str, model: str | None, num_joints: int | None, width_mult: float | None
) -> IntegralPoseModel:
    if content.get("version") != VERSION:
        found = repr(content.get("version"))[:40]  # any value: quoted, one line, short
        raise CheckpointError(f"{source} is mhp checkpoint version {found}; this mhp reads {VERSION}")
    name, kwargs = content.get("model"), content.get("model_kwargs")
    if not isinstance(name, str) or not isinstance(kwargs, dict) or not isinstance(content.get("state_dict"), dict):
        raise CheckpointError(f"{source} is an incomplete mhp checkpoint (model, model_kwargs or state_dict missing)")
    asked = {"model": model and resolve_model_name(model), "num_joints": num_joints, "width_mult": width_mult}
    recorded = {"model": name, "num_joints": kwargs.get("num_joints"), "width_mult": kwargs.get("width_mult")}
    conflicts = [f"{k}={asked[k]!r} (it holds {recorded[k]!r})" for k in asked if asked[k] not in (None, recorded[k])]
    if conflicts:
        raise CheckpointError(f"{source} records its own model; drop the conflicting {', '.join(conflicts)}")
    net = create_model(name, **kwargs)
    load_state_strict(net, content["state_dict"], source=source)
    return net.eval()


def load_checkpoint(
    path: str | Path,
    *,
    model: str | None = None,
    num_joints: int | None = None,
    width_mult: float | None = None,
) -> IntegralPoseModel:
    """An eval-mode model from an mhp checkpoint or an original ``snapshot_N.pth.tar``.

    mhp checkpoints record everything; for original snapshots ``model`` names the architecture (LPSKI,
    LPSKI_LARGE, LPWO, LPRES, RESNET50), ``num_joints`` defaults to what the weights hold and
    ``width_mult`` to 1.0. Original snapshots get the legacy input normalisation they were trained with.
    """
    return model_from_content(
        read_checkpoint(path), source=str(path), model=model, num_joints=num_joints, width_mult=width_mult
    )


def load_checkpoint_and_config(
    path: str | Path, **kwargs: Any
) -> tuple[IntegralPoseModel, dict[str, Any], dict[str, Any]]:
    """:func:`load_checkpoint` plus the training config recorded with it ({} for original snapshots) and how the
    file was selected (:func:`selection_of`), reading the file once."""
    content = read_checkpoint(path)
    config = content.get("config") if isinstance(content, dict) else None
    return model_from_content(content, source=str(path), **kwargs), config or {}, selection_of(content)


def selection_of(content: Any) -> dict[str, Any]:
    """Which file of a run a checkpoint is, after how many epochs, and why it was kept: the trainer's record, or
    what an original snapshot tells (its epoch), or {}."""
    if isinstance(content, dict) and isinstance(content.get("selection"), dict):
        return dict(content["selection"])
    if isinstance(content, dict) and isinstance(content.get("epoch"), int) and is_original_snapshot(content):
        return {"file": "original snapshot", "epochs": content["epoch"] + 1, "chosen": "saved after that epoch"}
    return {}


def model_from_content(
    content: Any,
    *,
    source: str,
    model: str | None = None,
    num_joints: int | None = None,
    width_mult: float | None = None,
) -> IntegralPoseModel:
    """The model held by an already-read checkpoint (see :func:`load_checkpoint`)."""
    if isinstance(content, dict) and content.get("format") == FORMAT:
        return _load_mhp(content, source=source, model=model, num_joints=num_joints, width_mult=width_mult)
    if is_original_snapshot(content):
        if model is None:
            raise CheckpointError(
                f"{source} is an original MobileHumanPose/3DMPPE snapshot, which does not record its architecture; "
                "pass --backbone (model= in Python): LPSKI, LPSKI_LARGE, LPWO, LPRES or RESNET50"
            )
        return load_original_snapshot(content, source=source, model=model, num_joints=num_joints, width_mult=width_mult)
    kind = f"a dict with keys {sorted(map(str, content))[:6]}" if isinstance(content, dict) else type(content).__name__
    raise CheckpointError(
        f"{source} is not a model checkpoint (it holds {kind}); expected an mhp .pt or snapshot_N.pth.tar"
    )
