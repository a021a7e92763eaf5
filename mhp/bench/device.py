"""Benchmarks on phones: Android through adb and TFLite's ``benchmark_model``; iOS by ingesting the app's JSON.

Both produce :class:`~mhp.bench.schema.BenchRow` rows with ``status`` "latency only": accuracy is measured on
the host. A delegate that fails on the phone becomes a ``skipped`` row with the tool's own error line.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mhp.bench.schema import NOT_SCORED, SKIPPED, BenchRow, row_from_dict
from mhp.errors import MhpError
from mhp.runtime.manifest import read_manifest
from mhp.util.fileio import read_json_file, write_text_atomic

REMOTE_DIR = "/data/local/tmp/mhp"
BENCHMARK_TIMEOUT_S = 900.0  # benchmark_model stops each phase after 150 s by itself
Run = Callable[..., subprocess.CompletedProcess]


@dataclass(frozen=True)
class Config:
    """One benchmark_model configuration: its name, the delegate and thread count it measures, and its flags."""

    name: str
    delegate: str  # the BenchRow delegate
    threads: int | None  # None: benchmark_model's default for the CPU ops a GPU/NNAPI delegate leaves
    flags: tuple[str, ...]


CONFIGS = (
    Config("cpu-1t", "cpu", 1, ("--num_threads=1", "--use_xnnpack=false")),
    Config("cpu-4t", "cpu", 4, ("--num_threads=4", "--use_xnnpack=false")),
    Config("xnnpack-1t", "xnnpack", 1, ("--num_threads=1", "--use_xnnpack=true")),
    Config("xnnpack-4t", "xnnpack", 4, ("--num_threads=4", "--use_xnnpack=true")),
    Config("gpu", "gpu", None, ("--use_gpu=true",)),
    Config("nnapi", "nnapi", None, ("--use_nnapi=true",)),
)
# benchmark_model's names for each delegate: the provider ("Explicitly applied GPU delegate") and the kernel
# ("Replacing 61 out of 65 node(s) with delegate (TfLiteGpuDelegateV2) node, yielding 2 partitions")
DELEGATE_NAMES = {
    "xnnpack": ("XNNPACK", "TfLiteXNNPackDelegate"),
    "gpu": ("GPU", "TfLiteGpuDelegateV2"),
    "nnapi": ("NNAPI", "TfLiteNnapiDelegate"),
}
PROPS = (
    "ro.product.manufacturer", "ro.product.model", "ro.soc.manufacturer", "ro.soc.model", "ro.board.platform",
    "ro.hardware", "ro.build.version.release", "ro.build.version.sdk", "ro.product.cpu.abi",
)  # fmt: skip

NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
TIMINGS = re.compile(
    rf"Inference timings in us: Init: ({NUMBER}), First inference: ({NUMBER}), "
    rf"Warmup \(avg\): ({NUMBER}), Inference \(avg\): ({NUMBER})"
)
STAT_LINE = re.compile(r"^(?:[A-Z]+: )?count=.*$", re.MULTILINE)  # the tool's Stat lines, not the profiler's
STAT_FIELD = re.compile(rf"(\w+)=({NUMBER})")
FOOTPRINT = re.compile(rf"(?:Memory footprint delta from the start of the tool|Peak memory footprint) \(MB\): "
                       rf"init={NUMBER} overall=({NUMBER})")  # fmt: skip
PERIODIC_PEAK = re.compile(rf"Overall peak memory footprint \(MB\) via periodic monitoring: ({NUMBER})")
CRASH = re.compile(r"Segmentation fault|SIGSEGV|SIGABRT|SIGBUS|Aborted|Bus error|Fatal signal")


@dataclass(frozen=True)
class Timings:
    """What one successful benchmark_model run printed, converted to ms and MB."""

    init_ms: float
    mean_ms: float
    min_ms: float | None
    median_ms: float | None  # printed by benchmark_model since percentiles were added (p5/median/p95)
    runs: int | None  # the timed runs really made (``--num_runs`` is a minimum, as is ``--min_secs``)
    warmup: int | None
    peak_memory_mb: float | None
    partitions: dict[str, int]  # delegate kernel name or provider name -> kernels; 1 = the whole graph


def parse_benchmark_output(text: str) -> Timings | None:
    """The timings in benchmark_model's output (stdout and stderr merged); None when it printed none."""
    summary = TIMINGS.search(text)
    if summary is None:
        return None
    stats = [stat_fields(line) for line in STAT_LINE.findall(text)]  # the warm-up runs', then the timed runs'
    timed = stats[-1] if stats else {}
    warmup = stats[-2] if len(stats) > 1 else {}
    peak = PERIODIC_PEAK.search(text) or FOOTPRINT.search(text)
    return Timings(
        init_ms=ms(float(summary[1])),
        mean_ms=ms(float(summary[4])),
        min_ms=ms(timed["min"]) if "min" in timed else None,
        median_ms=ms(timed["median"]) if "median" in timed else None,
        runs=int(timed["count"]) if "count" in timed else None,
        warmup=int(warmup["count"]) if "count" in warmup else None,
        peak_memory_mb=float(peak[1]) if peak else None,
        partitions=delegate_partitions(text),
    )


def ms(microseconds: float) -> float:
    """Milliseconds, rounded to the nanosecond so 20311.6 µs reads 20.3116 (the tool prints 6 digits)."""
    return round(microseconds / 1000, 6)


def stat_fields(line: str) -> dict[str, float]:
    """``count=50 first=.. curr=.. min=.. max=.. avg=.. std=.. [p5=.. median=.. p95=..]`` as numbers (µs)."""
    fields = {key: float(value) for key, value in STAT_FIELD.findall(line)}
    if "min" not in fields and "curr" in fields:  # "count=50 curr=20000(all same)": every run took curr
        fields["min"] = fields["curr"]
    return fields


def delegate_partitions(text: str) -> dict[str, int]:
    """Kernels per delegate: from "Explicitly applied X delegate ..." and the "Replacing ... node(s)" lines."""
    found = {kernel: int(count) for kernel, count in re.findall(r"with delegate \((\w+)\) node, yielding (\d+)", text)}
    for name in re.findall(r"Explicitly applied (\w+) delegate, and the model graph will be completely", text):
        found[name] = 1
    for name, count in re.findall(r"Explicitly applied (\w+) delegate, and .* partially .* w/ (\d+) delegate", text):
        found[name] = int(count)
    for name in re.findall(r"Though (\w+) delegate is explicitly applied, the model graph will not be", text):
        found[name] = 0
    return found


def config_partitions(timings: Timings, config: Config) -> int | None:
    """The delegate partitions of this configuration's delegate (None for plain CPU or when not printed)."""
    if config.delegate not in DELEGATE_NAMES:
        return None
    provider, kernel = DELEGATE_NAMES[config.delegate]
    return timings.partitions.get(provider, timings.partitions.get(kernel))


def failure_reason(output: str, returncode: int) -> str:
    """The first meaningful line of a failed run: a crash, else the cause behind "Failed to apply X delegate"."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    crash = next((line for line in lines if CRASH.search(line)), None)
    if crash:
        return f"benchmark_model crashed (exit code {returncode}): {crash}"
    errors = [line.split(":", 1)[1].strip() for line in lines if line.startswith(("ERROR:", "FATAL:"))]
    applied = next((e for e in errors if e.startswith("Failed to apply")), None)
    causes = [e for e in errors if not (e.endswith(":") or e.startswith(("Failed to apply", "Benchmarking failed")))]
    if applied and causes:
        return f"{applied.rstrip('.')}: {causes[0]}"
    if applied:
        return applied
    if causes or errors:
        return (causes or errors)[0]
    return f"benchmark_model printed no timing line (exit code {returncode})"


def parse_adb_devices(text: str) -> list[tuple[str, str]]:
    """(serial, state) for each line of ``adb devices``; daemon start-up chatter is skipped."""
    entries = []
    for line in text.splitlines():
        if not line.strip() or line.startswith(("*", "List of devices")):
            continue
        serial, _, state = line.strip().partition("\t")
        entries.append((serial.strip(), state.strip()))
    return entries


def pick_device(entries: Sequence[tuple[str, str]], serial: str | None) -> str:
    """The serial to use; one-line errors for no device, several, or one that is not ready."""
    if serial is not None:
        state = dict(entries).get(serial)
        if state is None:
            listed = ", ".join(s for s, _ in entries) or "none"
            raise MhpError(f"Android device {serial!r} is not attached (adb devices lists {listed}); check --serial")
        return check_ready(serial, state)
    if not entries:
        raise MhpError("no Android device attached: connect one and enable USB debugging (adb devices lists none)")
    ready = [s for s, state in entries if state == "device"]
    if len(ready) > 1:
        raise MhpError(f"{len(ready)} Android devices attached ({', '.join(ready)}); pick one with --serial")
    return ready[0] if ready else check_ready(*entries[0])


def check_ready(serial: str, state: str) -> str:
    if state == "device":
        return serial
    if state == "unauthorized":
        raise MhpError(f"Android device {serial} is unauthorized: unlock it and accept the USB debugging prompt")
    if state == "offline":
        raise MhpError(f"Android device {serial} is offline: reconnect it (or run adb kill-server) and retry")
    if state.startswith("no permissions"):
        raise MhpError(f"no permission to open Android device {serial}: fix the udev rules for your user ({state})")
    raise MhpError(f"Android device {serial} is in state {state!r}, not 'device': wait for it to boot or reconnect")


def adb_call(adb: str, args: Sequence[str], run: Run, *, timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run ``adb ARGS`` with stdout and stderr merged (benchmark_model logs errors to stderr)."""
    try:
        return run([adb, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    except (FileNotFoundError, PermissionError):
        raise MhpError(f"{adb} not found or not executable: install Android platform-tools or pass --adb") from None


def adb_checked(adb: str, args: Sequence[str], run: Run) -> str:
    """The output of an adb call that must succeed."""
    done = adb_call(adb, args, run)
    if done.returncode != 0:
        last = (done.stdout or "").strip().splitlines()[-1:] or ["no output"]
        raise MhpError(f"adb {' '.join(args)} failed (exit code {done.returncode}): {last[0]}")
    return done.stdout or ""


def describe_device(props: dict[str, str]) -> str:
    """``Google Pixel 7 (Google GS201, Android 14, API 34, arm64-v8a)`` from the phone's system properties."""
    maker, model = props.get("ro.product.manufacturer", ""), props.get("ro.product.model", "")
    name = model if model.lower().startswith(maker.lower()) else f"{maker} {model}".strip()
    soc = " ".join(filter(None, (props.get("ro.soc.manufacturer"), props.get("ro.soc.model"))))
    soc = soc or props.get("ro.board.platform") or props.get("ro.hardware", "")
    release, sdk = props.get("ro.build.version.release"), props.get("ro.build.version.sdk")
    parts = [soc, release and f"Android {release}", sdk and f"API {sdk}", props.get("ro.product.cpu.abi")]
    details = ", ".join(filter(None, parts))
    return f"{name or 'Android device'} ({details})" if details else name or "Android device"


def benchmark_command(tool: str, graph: str, config: Config, *, runs: int, warmup_runs: int) -> list[str]:
    """The ``adb shell`` words running one configuration (quoted: adb joins them into one shell line)."""
    words = [tool, f"--graph={graph}", *config.flags, f"--num_runs={runs}", f"--warmup_runs={warmup_runs}"]
    return [shlex.quote(w) for w in [*words, "--report_peak_memory_footprint=true"]]


def artifact_fields(artifact: Path) -> dict[str, Any]:
    """The row fields an artifact and its manifest give; without a manifest it is timed as a peer model."""
    if artifact.suffix != ".tflite" or not artifact.is_file():
        raise MhpError(f"{artifact} is not an existing .tflite file; benchmark_model runs TFLite artifacts only")
    fields = {"format": "tflite", "runtime": "benchmark_model", "platform": "android", "artifact": str(artifact),
              "size_bytes": artifact.stat().st_size}  # fmt: skip
    try:
        manifest = read_manifest(artifact)
    except MhpError as exc:
        return {**fields, "model": artifact.name, "precision": "?", "reason": f"{exc}; timed as a peer model"}
    return {**fields, "model": manifest.model, "precision": manifest.precision,
            "input_size": manifest.geometry.get("input_size"), "reason": ""}  # fmt: skip


def config_row(fields: dict[str, Any], config: Config, done: subprocess.CompletedProcess) -> BenchRow:
    """The row of one configuration's run: timed, or skipped with the tool's error."""
    timings = parse_benchmark_output(done.stdout or "") if done.returncode == 0 else None
    common = {**fields, "threads": config.threads, "delegate": config.delegate}
    if timings is None:
        return BenchRow(**common | {"reason": failure_reason(done.stdout or "", done.returncode)}, status=SKIPPED)
    partitions = config_partitions(timings, config)
    if partitions == 0:
        unused = f"the {config.delegate} delegate took no ops; the whole graph ran on the CPU"
        common["reason"] = "; ".join(filter(None, (common["reason"], unused)))
    return BenchRow(
        **common, status=NOT_SCORED, warmup=timings.warmup, runs=timings.runs, latency_p50_ms=timings.median_ms,
        latency_mean_ms=timings.mean_ms, latency_min_ms=timings.min_ms, init_ms=timings.init_ms,
        throughput_fps=1000 / timings.mean_ms if timings.mean_ms > 0 else None,
        peak_memory_mb=timings.peak_memory_mb, partitions=partitions,
    )  # fmt: skip


def run_on_device(adb: str, command: list[str], run: Run, timeout: float) -> subprocess.CompletedProcess:
    """One benchmark_model run; past ``timeout`` it counts as a failed run (exit code 124)."""
    try:
        return adb_call(adb, command, run, timeout=timeout)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(command, 124, stdout=f"ERROR: killed after {timeout:.0f} s\n")


def android_rows(
    artifacts: Sequence[Path],
    *,
    benchmark_model: Path,
    serial: str | None = None,
    adb: str = "adb",
    runs: int = 50,
    warmup_runs: int = 5,
    configs: Sequence[Config] = CONFIGS,
    log_dir: Path | None = None,
    timeout: float = BENCHMARK_TIMEOUT_S,
    run: Run = subprocess.run,
) -> list[BenchRow]:
    """Push ``benchmark_model`` and each ``.tflite`` to the phone and time every configuration on it.

    ``log_dir``, when given, keeps each run's raw output as ``<artifact>.<config>.log``.
    """
    if not Path(benchmark_model).is_file():
        raise MhpError(f"{benchmark_model} does not exist; pass TFLite's benchmark_model binary built for the phone")
    fields = [artifact_fields(Path(a)) for a in artifacts]  # every local error before the phone is touched
    serial = pick_device(parse_adb_devices(adb_checked(adb, ["devices"], run)), serial)
    shell = ["-s", serial, "shell"]
    device = describe_device({p: adb_checked(adb, [*shell, "getprop", p], run).strip() for p in PROPS})
    tool = f"{REMOTE_DIR}/benchmark_model"
    adb_checked(adb, [*shell, "mkdir", "-p", REMOTE_DIR], run)
    adb_checked(adb, ["-s", serial, "push", str(benchmark_model), tool], run)
    adb_checked(adb, [*shell, "chmod", "+x", tool], run)
    rows = []
    for artifact, known in zip(map(Path, artifacts), fields, strict=True):
        graph = f"{REMOTE_DIR}/{artifact.name}"
        adb_checked(adb, ["-s", serial, "push", str(artifact), graph], run)
        for config in configs:
            words = benchmark_command(tool, graph, config, runs=runs, warmup_runs=warmup_runs)
            done = run_on_device(adb, [*shell, *words], run, timeout)
            if log_dir is not None:
                Path(log_dir).mkdir(parents=True, exist_ok=True)
                write_text_atomic(Path(log_dir) / f"{artifact.name}.{config.name}.log", done.stdout or "")
            rows.append(config_row({**known, "device": device}, config, done))
    return rows


APP_FORMAT = "mhp-bench-app"
APP_VERSION = 1
APP_PLATFORMS = ("android", "ios")


def ingest_rows(path: Path) -> list[BenchRow]:
    """The rows of a benchmark file written by the Android or iOS demo app (contract: ``benchmarks/README.md``)."""
    path = Path(path)
    if not path.is_file():
        raise MhpError(f"{path} does not exist; copy the app's benchmark JSON to this machine and pass its path")
    content = read_json_file(path, fix="export it again from the app")
    if not isinstance(content, dict) or content.get("format_name") != APP_FORMAT:
        found = content.get("format_name") if isinstance(content, dict) else type(content).__name__
        raise MhpError(f"{path} is not an app benchmark file (format_name {found!r}, expected {APP_FORMAT!r})")
    if content.get("version") != APP_VERSION:
        raise MhpError(f"{path} has version {content.get('version')!r}; this mhp reads version {APP_VERSION}")
    platform = content.get("platform")
    if platform not in APP_PLATFORMS:
        raise MhpError(f"{path}: 'platform' is {platform!r}; expected one of {', '.join(APP_PLATFORMS)}")
    if "app" in content and not isinstance(content["app"], dict):
        raise MhpError(f"{path}: 'app' must be an object")
    device = device_name(content.get("device"), where=str(path))
    records = content.get("rows")
    if not isinstance(records, list) or not records:
        raise MhpError(f"{path}: 'rows' must be a non-empty list of benchmark rows")
    return [app_row(record, platform, device, where=f"{path}: rows[{i}]") for i, record in enumerate(records)]


def device_name(header: Any, *, where: str) -> str:
    """``iPhone 14 Pro (iPhone15,2, A16, iOS 17.4)`` or ``Pixel 8 (shiba, Tensor G3, Android 14)``."""
    if not isinstance(header, dict):
        raise MhpError(f"{where}: 'device' must be an object with 'model' and 'os'")
    for key in ("model", "os"):
        if not isinstance(header.get(key), str) or not header[key]:
            raise MhpError(f"{where}: device field {key!r} must be non-empty text")
    for key in ("name", "chip"):
        if not isinstance(header.get(key, ""), str):
            raise MhpError(f"{where}: device field {key!r} must be text")
    name, model, chip = header.get("name", ""), header["model"], header.get("chip", "")
    details = ", ".join(filter(None, (model if name else "", chip, header["os"])))
    return f"{name or model} ({details})"


def app_row(record: Any, platform: str, device: str, *, where: str) -> BenchRow:
    """One row: its platform is the file's (checked when present); an empty device comes from the header."""
    if isinstance(record, dict):
        if record.get("platform", platform) != platform:
            raise MhpError(f"{where}: field 'platform' is {record['platform']!r}; rows in this file are {platform!r}")
        record = {**record, "platform": platform, "device": record.get("device") or device}
    return row_from_dict(record, where=where)
