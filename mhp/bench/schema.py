"""The one row schema every benchmark source writes: the desktop runs, Android ``benchmark_model`` and the iOS app.

A row is one (model, format, precision, runtime, delegate, threads) measurement on one machine. Fields a source
cannot measure stay ``None`` (an empty CSV cell), never zero.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from mhp.errors import MhpError

# ultralytics-style verdicts: the export exists and runs, and its accuracy is within the precision's budget
PASSED = "passed"
ACCURACY_FAILED = "export ok, accuracy failed"
EXPORT_FAILED = "export failed"
SKIPPED = "skipped"
NOT_SCORED = "latency only"  # peers and on-device rows: timed, accuracy not measured there
STATUSES = (PASSED, ACCURACY_FAILED, EXPORT_FAILED, SKIPPED, NOT_SCORED)


@dataclass(frozen=True)
class BenchRow:
    model: str  # architecture (LPSKI) or a peer's file name
    format: str  # torch, onnx, tflite, coreml
    precision: str  # fp32, fp16, dynamic, int8
    runtime: str  # torch, onnxruntime, litert, benchmark_model, coreml
    threads: int | None
    status: str
    reason: str = ""
    delegate: str = ""  # xnnpack, cpu, gpu, nnapi, ane, ...
    platform: str = "host"  # host, android, ios
    peer: bool = False  # another project's model, timed for comparison
    device: str = ""  # CPU model on the host; phone model and SoC on devices
    artifact: str = ""
    input_size: int | None = None
    warmup: int | None = None
    runs: int | None = None
    latency_p50_ms: float | None = None
    latency_p90_ms: float | None = None
    latency_p99_ms: float | None = None
    latency_mean_ms: float | None = None
    latency_min_ms: float | None = None
    throughput_fps: float | None = None  # 1000 / mean latency at batch 1
    init_ms: float | None = None
    peak_memory_mb: float | None = None  # resident memory added by loading and running the artifact
    size_bytes: int | None = None
    gmacs: float | None = None  # multiply-accumulates per inference, in billions
    gmacs_per_s: float | None = None  # achieved at the median latency
    peak_gmacs_per_s: float | None = None  # the hardware estimate for these threads and this precision
    hardware_fraction: float | None = None  # achieved / peak
    partitions: int | None = None  # graph pieces on the delegate and between them; 1 = the whole graph in one kernel
    ops_outside_delegate: str = ""  # "QUANTIZE:1"
    eval_data: str = ""
    samples: int | None = None
    mpjpe_mm: float | None = None
    pa_mpjpe_mm: float | None = None
    delta_mpjpe_mm: float | None = None  # against the torch float32 model on the same crops
    limb_within_2sigma: float | None = None  # share of predicted bones within 2 std of the limb prior (0-1)
    limb_error_mm: float | None = None  # mean |bone length - the prior's mean|

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


FIELDS = tuple(f.name for f in dataclasses.fields(BenchRow))
REQUIRED = tuple(f.name for f in dataclasses.fields(BenchRow) if f.default is dataclasses.MISSING)
INT_FIELDS = {"threads", "input_size", "warmup", "runs", "size_bytes", "partitions", "samples"}
TEXT_FIELDS = {f.name for f in dataclasses.fields(BenchRow) if f.type == "str"}
SIGNED_FIELDS = {"delta_mpjpe_mm"}  # a quantised model may score better than float32


def row_from_dict(record: dict[str, Any], *, where: str) -> BenchRow:
    """A row read back from JSON (ours or a device's), with one-line errors naming ``where`` and the field."""
    if not isinstance(record, dict):
        raise MhpError(f"{where}: a benchmark row must be a JSON object, got {type(record).__name__}")
    unknown = sorted(set(record) - set(FIELDS))
    if unknown:
        raise MhpError(f"{where}: unknown field {unknown[0]!r}; rows hold {', '.join(FIELDS)}")
    missing = [k for k in REQUIRED if k not in record]
    if missing:
        raise MhpError(f"{where}: missing field {missing[0]!r}")
    if record["status"] not in STATUSES:
        raise MhpError(f"{where}: status {record['status']!r} is not one of {', '.join(STATUSES)}")
    values = {}
    for key, value in record.items():
        values[key] = check_value(key, value, where)
    return BenchRow(**values)


def _finite(value: int | float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer beyond the float range
        return False


def check_value(key: str, value: Any, where: str) -> Any:
    if key == "peer":
        if not isinstance(value, bool):
            raise MhpError(f"{where}: field 'peer' must be true or false, got {value!r}")
        return value
    if key in TEXT_FIELDS:
        if not isinstance(value, str):
            raise MhpError(f"{where}: field {key!r} must be text, got {value!r}")
        return value
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MhpError(f"{where}: field {key!r} must be a number or null, got {value!r}")
    if not _finite(value) or (value < 0 and key not in SIGNED_FIELDS):
        raise MhpError(f"{where}: field {key!r} must be a finite non-negative number, got {value!r}")
    if key in INT_FIELDS:
        if int(value) != value:
            raise MhpError(f"{where}: field {key!r} must be a whole number, got {value!r}")
        return int(value)
    return float(value)
