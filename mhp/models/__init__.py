"""Model registry: ``create_model(name, **kwargs)`` by name, ``list_models()``.

Every factory takes ``num_joints`` (18 for the Human3.6M set, 21 for MuCo), ``joint_set`` (its name; by
default the set of that size), ``input_size`` (crop side, 256) and ``normalization`` (``legacy`` as the
original code, or ``unit``); LPNet factories also take
``width_mult``, ``embedding_size`` and ``activation`` (``prelu`` as the original; ``relu``/``relu6`` for
INT8-friendly deployment). ``LIFT_MLP`` is the 2D→3D lifter (task ``lift``): pixel 2D joints in, no image.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable
from functools import partial
from typing import Any

from torch import nn

from mhp.errors import MhpError
from mhp.models.lift_geometry import ROOT_DISTANCE
from mhp.models.lifter import LiftingModel, LiftMLP
from mhp.models.lpnet import LPResConcat, LPSkiConcat, LPWoConcat
from mhp.models.pose_model import IntegralPoseModel, resolve_joint_set
from mhp.models.resnet import DeconvHead, ResNetBackbone

TASKS = ("pose", "lift")  # pose: image -> 3D (IntegralPoseModel); lift: 2D joints -> 3D (LiftingModel)
_REGISTRY: dict[str, Callable[..., nn.Module]] = {}
_TASK: dict[str, str] = {}


def register_model(name: str, task: str = "pose") -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Decorator adding a factory to the registry under ``name`` (upper case) for ``task``."""

    def add(factory: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        _REGISTRY[name.upper()], _TASK[name.upper()] = factory, task
        return factory

    return add


def list_models(task: str | None = None) -> list[str]:
    """Registered names, all or those of one task (``pose`` or ``lift``)."""
    return [name for name in _REGISTRY if task is None or _TASK[name] == task]


def model_task(name: str) -> str:
    return _TASK[resolve_model_name(name)]


def resolve_model_name(name: str) -> str:
    """Canonical registry name (case-insensitive); unknown names get the closest suggestions."""
    key = str(name).upper()
    if key in _REGISTRY:
        return key
    close = difflib.get_close_matches(key, _REGISTRY, n=3, cutoff=0.4)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    raise MhpError(f"unknown model {name!r}; {hint}available: {', '.join(_REGISTRY)}")


def model_parameters(name: str) -> tuple[str, ...]:
    """The constructor arguments model ``name`` takes."""
    return tuple(inspect.signature(_REGISTRY[resolve_model_name(name)]).parameters)


def model_arguments(name: str, **kwargs: Any) -> dict[str, Any]:
    """All constructor arguments of model ``name`` with defaults filled in; rejects unknown ones."""
    key = resolve_model_name(name)
    signature = inspect.signature(_REGISTRY[key])
    unknown = sorted(set(kwargs) - set(signature.parameters))
    if unknown:
        raise MhpError(f"model {key} does not take {', '.join(unknown)}; it takes {', '.join(signature.parameters)}")
    bound = signature.bind(**kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


def create_model(name: str, **kwargs: Any) -> nn.Module:
    """Build a registered model, e.g. ``create_model("LPSKI", num_joints=21, width_mult=0.5)``."""
    key = resolve_model_name(name)
    arguments = model_arguments(key, **kwargs)
    model = _REGISTRY[key](**arguments)
    model.model_name, model.model_kwargs = key, arguments
    return model


def _check_positive(num_joints: int, width_mult: float = 1.0, embedding_size: int = 1) -> None:
    if int(num_joints) < 1 or width_mult <= 0 or int(embedding_size) < 1:
        raise MhpError(
            f"num_joints ({num_joints}), width_mult ({width_mult}) and embedding_size ({embedding_size}) "
            "must be positive"
        )


def _lpnet_factory(build: Callable[..., nn.Module], depth_bins: int, doc: str) -> Callable[..., IntegralPoseModel]:
    """A registry factory for an LPNet class; ``build`` takes the keyword arguments of the LPNet classes."""

    def factory(
        *,
        num_joints: int = 18,
        width_mult: float = 1.0,
        embedding_size: int = 2048,
        activation: str = "prelu",
        input_size: int = 256,
        normalization: str = "legacy",
        joint_set: str | None = None,
    ) -> IntegralPoseModel:
        _check_positive(num_joints, width_mult, embedding_size)
        net = build(
            num_joints=num_joints,
            depth_bins=depth_bins,
            width_mult=width_mult,
            embedding_size=embedding_size,
            activation=activation,
        )
        return IntegralPoseModel(
            net,
            None,
            num_joints=num_joints,
            depth_bins=depth_bins,
            output_stride=net.output_stride,
            input_size=input_size,
            normalization=normalization,
            joint_set=joint_set,
        )

    factory.__doc__ = doc
    return factory


register_model("LPSKI")(
    _lpnet_factory(
        partial(LPSkiConcat, stem_stride=2),
        32,
        "MobileHumanPose default: LPNet with skip concatenation, 32x32x32 volume (master branch).",
    )
)
register_model("LPSKI_LARGE")(
    _lpnet_factory(
        partial(LPSkiConcat, stem_stride=1), 64, "LPSKI with stem stride 1 and a 64x64x64 volume (the large branch)."
    )
)
register_model("LPWO")(_lpnet_factory(LPWoConcat, 64, "LPNet without skip connections, 64x64x64 volume."))
register_model("LPRES")(_lpnet_factory(LPResConcat, 64, "LPNet with dense residual concatenation, 64x64x64 volume."))


@register_model("RESNET50")
def resnet50(
    *,
    num_joints: int = 18,
    input_size: int = 256,
    normalization: str = "legacy",
    joint_set: str | None = None,
) -> IntegralPoseModel:
    """3DMPPE PoseNet: ResNet-50 + three transposed convs, 64x64x64 volume.

    Initialise the backbone from a torchvision ImageNet checkpoint with ``model.backbone.load_imagenet(path)``.
    """
    _check_positive(num_joints)
    backbone = ResNetBackbone()
    head = DeconvHead(backbone.out_channels, num_joints, depth_bins=64)
    return IntegralPoseModel(
        backbone,
        head,
        num_joints=num_joints,
        depth_bins=64,
        output_stride=4,
        input_size=input_size,
        normalization=normalization,
        joint_set=joint_set,
    )


@register_model("LIFT_MLP", task="lift")
def lift_mlp(
    *,
    num_joints: int = 18,
    joint_set: str | None = None,
    output: str = "depth",
    width: int = 1024,
    blocks: int = 2,
    dropout: float = 0.5,
    unit_mm: float = 1000.0,
    root_distance: float = ROOT_DISTANCE,
) -> LiftingModel:
    """2D→3D lifter: Martinez et al.'s residual MLP; ``depth`` output (Chen et al., trainable from 2D alone)
    or ``xyz``. Input: pixel 2D joints normalised by :meth:`LiftingModel.normalize`; output: root-relative mm."""
    _check_positive(num_joints)
    resolved = resolve_joint_set(joint_set, num_joints)
    if resolved is None:
        raise MhpError(f"a lifter needs a joint set (its root and head); name one of {num_joints} joints")
    net = LiftMLP(num_joints, output=output, width=width, blocks=blocks, dropout=dropout)
    return LiftingModel(net, joint_set=resolved, unit_mm=unit_mm, root_distance=root_distance)
