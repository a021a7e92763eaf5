"""Checkpoints written by the original MobileHumanPose and 3DMPPE PoseNet code (reference §14).

A ``snapshot_N.pth.tar`` holds ``{epoch, network, optimizer}``; ``network`` is a DataParallel state dict
(``module.backbone.*`` and, for PoseNet, ``module.head.*``). mhp keeps the original module names, so the
conversion strips ``module.`` and mends LPRES's ``deonv`` typo. The network outputs logits in both; the
soft-argmax of the original runs outside it, exactly as :class:`SoftArgmax3D` does here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from mhp.errors import CheckpointError
from mhp.models import create_model, resolve_model_name
from mhp.models.pose_model import IntegralPoseModel
from mhp.models.state import load_state_strict
from mhp.skeleton import JOINT_SETS

# Depth bins of every architecture as the original code configures it (reference §3.5).
ORIGINAL_DEPTH_BINS = {"LPSKI": 32, "LPSKI_LARGE": 64, "LPWO": 64, "LPRES": 64, "RESNET50": 64}
KNOWN_JOINT_COUNTS = frozenset(s.num_joints for s in JOINT_SETS.values())


def is_original_snapshot(obj: Any) -> bool:
    """A ``{network: state_dict, ...}`` snapshot, or a bare DataParallel state dict."""
    if not isinstance(obj, Mapping):
        return False
    if isinstance(obj.get("network"), Mapping):
        return True
    return bool(obj) and all(isinstance(k, str) and k.startswith("module.") for k in obj)


def original_to_mhp_state(obj: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """The network state dict of an original snapshot, renamed to mhp keys."""
    network = obj["network"] if isinstance(obj.get("network"), Mapping) else obj
    state = {}
    for key, value in network.items():
        key = key.removeprefix("module.")
        if key.startswith("backbone.deonv"):  # LPRES's decoder attribute typo, carried by its checkpoints
            key = "backbone.deconv" + key.removeprefix("backbone.deonv")
        state[key] = value
    return state


def _final_layer_channels(state: Mapping[str, torch.Tensor]) -> int | None:
    for key in ("backbone.final_layer.bias", "head.final_layer.bias"):
        if key in state and isinstance(state[key], torch.Tensor):
            return int(state[key].shape[0])
    return None


def _what_fits(channels: int) -> str:
    """Architectures whose depth bins turn ``channels`` into a known joint count, e.g. "LPSKI with 18 joints"."""
    fits = [
        f"{name} with {channels // depth} joints"
        for name, depth in ORIGINAL_DEPTH_BINS.items()
        if channels % depth == 0 and channels // depth in KNOWN_JOINT_COUNTS
    ]
    return " or ".join(fits) if fits else "no architecture with a known joint count"


def _mismatch_hint(state: Mapping[str, torch.Tensor], name: str, model: IntegralPoseModel) -> str:
    hints = []
    channels = _final_layer_channels(state)
    depth = ORIGINAL_DEPTH_BINS[name]
    if channels is not None and channels != model.num_joints * depth:
        if channels % depth == 0 and channels // depth in KNOWN_JOINT_COUNTS:
            joints = channels // depth
            hints.append(f"its final layer has {channels} = {joints} joints x {depth} bins: pass num_joints={joints}")
        else:
            hints.append(f"its final layer has {channels} channels, which fits {_what_fits(channels)}")
    stem = state.get("backbone.first_conv.0.weight")
    own_stem = model.state_dict().get("backbone.first_conv.0.weight")
    if isinstance(stem, torch.Tensor) and own_stem is not None and stem.shape[0] != own_stem.shape[0]:
        hints.append(f"its stem has {stem.shape[0]} channels, the model's {own_stem.shape[0]}: pass its width_mult")
    return "; ".join(hints)


def load_original_snapshot(
    obj: Mapping[str, Any],
    *,
    source: str,
    model: str,
    num_joints: int | None = None,
    width_mult: float | None = None,
) -> IntegralPoseModel:
    """Build ``model`` and load an original snapshot into it.

    The joint count is read from the final layer when not given, and must then be one of the known joint
    sets' (so an LPSKI snapshot is not silently taken for LPSKI_LARGE with half the joints). Mismatches
    raise :class:`CheckpointError` naming the keys, shapes and the likely fix.
    """
    name = resolve_model_name(model)
    state = original_to_mhp_state(obj)
    if num_joints is None:
        channels = _final_layer_channels(state)
        depth = ORIGINAL_DEPTH_BINS[name]
        if channels is None:
            raise CheckpointError(f"{source} has no final_layer.bias to read the joint count from; pass num_joints")
        if channels % depth != 0 or channels // depth not in KNOWN_JOINT_COUNTS:
            raise CheckpointError(
                f"{source} does not look like {name}: its final layer has {channels} channels, which fits "
                f"{_what_fits(channels)}; pass the right model, or num_joints to force it"
            )
        num_joints = channels // depth
    kwargs: dict[str, Any] = {"num_joints": num_joints, "normalization": "legacy"}
    if width_mult is not None:
        kwargs["width_mult"] = width_mult
    net = create_model(name, **kwargs)
    load_state_strict(net, state, source=source, hint=_mismatch_hint(state, name, net))
    return net.eval()
