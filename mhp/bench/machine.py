"""What the benchmark ran on: CPU model, cores, clock, SIMD level and its peak multiply-accumulate rate.

The peak is an estimate, ``cores x clock x MACs per cycle``, with MACs per cycle per core from the widest SIMD
extension the CPU reports (two vector pipes, as on every x86 core since Haswell/Zen and big ARM cores).
It is an upper bound no real network reaches; the ratio to it says how much of the hardware a model uses.
"""

from __future__ import annotations

import os
import platform
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mhp.util.optional import installed_versions

# (flag the kernel lists, fp32 MACs per cycle per core, int8 MACs per cycle per core), widest first
SIMD_LEVELS = (
    ("avx512_vnni", 32, 128),  # 2 x VFMADD 16 lanes; 2 x VPDPBUSD 64 u8*s8 each
    ("avx512f", 32, 64),  # 2 x VPMADDWD 32 lanes (int8 widened to int16)
    ("avx_vnni", 16, 64),  # 256-bit VPDPBUSD
    ("avx2", 16, 32),  # with FMA: 2 x 8-lane FMA; 2 x 16-lane VPMADDWD
    ("avx", 8, 16),  # no FMA: one 8-lane multiply and one add per cycle
    ("sse4_1", 4, 8),
    ("asimddp", 8, 32),  # ARMv8.2 dot product: 2 x SDOT 16 int8 MACs
    ("asimd", 8, 16),  # 2 x 4-lane FMLA; 2 x 8-lane SMLAL
)
INT8_PRECISIONS = {"int8", "dynamic"}  # dynamic-range models run their convolutions on int8 kernels in XNNPACK
LIBRARIES = ("mhp", "torch", "numpy", "onnxruntime", "ai-edge-litert", "tensorflow", "coremltools")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")


@dataclass(frozen=True)
class Machine:
    cpu: str
    cores: int  # physical cores (logical when the topology is not reported)
    logical_cpus: int
    clock_ghz: float | None
    clock_source: str
    simd: str
    fp32_macs_per_cycle: int
    int8_macs_per_cycle: int
    system: str
    python: str
    libraries: dict[str, str] = field(default_factory=dict)
    thread_settings: dict[str, str] = field(default_factory=dict)

    def peak_gmacs_per_s(self, threads: int | None, precision: str) -> float | None:
        """The estimated peak for ``threads`` cores at ``precision`` (fp16 computes as fp32 on x86)."""
        if self.clock_ghz is None or not self.fp32_macs_per_cycle:
            return None
        per_cycle = self.int8_macs_per_cycle if precision in INT8_PRECISIONS else self.fp32_macs_per_cycle
        cores = min(threads or self.cores, self.cores)
        return cores * self.clock_ghz * per_cycle

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_cpuinfo(text: str) -> dict[str, Any]:
    """Model name, flags, physical cores and clock from ``/proc/cpuinfo`` text (x86 or ARM)."""
    first: dict[str, str] = {}
    cores: set[tuple[str, str]] = set()
    logical = 0
    physical_id = core_id = ""
    for line in [*text.splitlines(), ""]:
        if not line.strip():
            if core_id:
                cores.add((physical_id, core_id))
            physical_id = core_id = ""
            continue
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key == "processor":
            logical += 1
        elif key == "physical id":
            physical_id = value
        elif key == "core id":
            core_id = value
        first.setdefault(key, value)
    flags = set((first.get("flags") or first.get("Features") or "").split())
    name = first.get("model name") or first.get("Hardware") or first.get("CPU part") or ""
    mhz = first.get("cpu MHz")
    return {
        "cpu": name,
        "flags": flags,
        "logical": logical,
        "cores": len(cores) or logical,
        "mhz": float(mhz) if mhz else None,
    }


def clock_from_name(name: str) -> float | None:
    """The base clock some vendors print in the model name ("... CPU @ 2.20GHz")."""
    match = re.search(r"@\s*([\d.]+)\s*GHz", name)
    return float(match.group(1)) if match else None


def max_frequency_ghz(cpufreq: Path = Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")) -> float | None:
    try:
        return int(cpufreq.read_text()) / 1e6
    except (OSError, ValueError):
        return None


def simd_level(flags: set[str]) -> tuple[str, int, int]:
    for flag, fp32, int8 in SIMD_LEVELS:
        if flag in flags and (flag != "avx2" or "fma" in flags):
            return flag, fp32, int8
    return "scalar", 1, 1


def describe_machine(cpuinfo: Path = Path("/proc/cpuinfo")) -> Machine:
    """This machine, read from the kernel (``/proc/cpuinfo``, cpufreq) and the installed packages."""
    try:
        info = parse_cpuinfo(cpuinfo.read_text())
    except OSError:
        info = {"cpu": "", "flags": set(), "logical": 0, "cores": 0, "mhz": None}
    logical = info["logical"] or os.cpu_count() or 1
    cpu = info["cpu"] or platform.processor() or platform.machine()
    clock, source = max_frequency_ghz(), "cpufreq max"
    if clock is None and clock_from_name(cpu):
        clock, source = clock_from_name(cpu), "model name"
    if clock is None and info["mhz"]:
        clock, source = round(info["mhz"] / 1000, 3), "/proc/cpuinfo cpu MHz"
    if clock is None:
        source = "unknown"
    simd, fp32, int8 = simd_level(info["flags"])
    return Machine(
        cpu=cpu,
        cores=info["cores"] or logical,
        logical_cpus=logical,
        clock_ghz=clock,
        clock_source=source,
        simd=simd,
        fp32_macs_per_cycle=fp32,
        int8_macs_per_cycle=int8,
        system=f"{platform.system()} {platform.release()} {platform.machine()}",
        python=platform.python_version(),
        libraries=installed_versions(LIBRARIES),
        thread_settings={k: os.environ[k] for k in THREAD_VARIABLES if k in os.environ},
    )
