"""Configuration: one frozen dataclass per command (``commands``), the value ranges every one of them checks
(``checks``), defaults < YAML < flags resolution (``resolve``) and the recipes shipped with the package
(``recipes``). The command line itself (argparse) lives in ``mhp.cli``."""

from mhp.config.commands import (
    BenchConfig,
    CheckConfig,
    EvalConfig,
    ExportConfig,
    InferConfig,
    InspectConfig,
    ModelsConfig,
    ShowConfig,
    StatsConfig,
    SynthConfig,
    TrainConfig,
)

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
