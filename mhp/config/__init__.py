"""Configuration: one frozen dataclass per command (``commands``; ``data_commands`` for ``mhp-data``), the value
ranges every one of them checks (``checks``), defaults < YAML < flags resolution with the old option names kept for
one release (``resolve``) and the recipes shipped with the package (``recipes``). The command line itself
(argparse) lives in ``mhp.cli``."""

from mhp.config.commands import BenchConfig, EvalConfig, ExportConfig, InferConfig, ModelsConfig, TrainConfig
from mhp.config.data_commands import CheckConfig, InspectConfig, ShowConfig, StatsConfig, SynthConfig

__all__ = [
    "BenchConfig",
    "CheckConfig",
    "EvalConfig",
    "ExportConfig",
    "InferConfig",
    "InspectConfig",
    "ModelsConfig",
    "ShowConfig",
    "StatsConfig",
    "SynthConfig",
    "TrainConfig",
]
