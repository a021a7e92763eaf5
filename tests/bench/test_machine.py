"""CPU description and the peak multiply-accumulate estimate."""

import pytest

from mhp.bench.machine import Machine, clock_from_name, describe_machine, parse_cpuinfo, simd_level

X86 = """processor\t: 0
model name\t: Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz
cpu MHz\t\t: 2000.000
physical id\t: 0
core id\t\t: 0
flags\t\t: fpu sse4_1 avx avx2 fma avx512f avx512_vnni

processor\t: 1
model name\t: Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz
physical id\t: 0
core id\t\t: 0
flags\t\t: fpu sse4_1 avx avx2 fma avx512f avx512_vnni

processor\t: 2
model name\t: Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz
physical id\t: 0
core id\t\t: 1
flags\t\t: fpu sse4_1 avx avx2 fma avx512f avx512_vnni
"""

ARM = """processor\t: 0
BogoMIPS\t: 50.00
Features\t: fp asimd evtstrm aes crc32 asimddp

processor\t: 1
Features\t: fp asimd evtstrm aes crc32 asimddp
"""


def test_x86_cpuinfo_gives_model_physical_cores_and_simd():
    info = parse_cpuinfo(X86)
    assert info["cpu"].startswith("Intel(R) Xeon(R) Gold 6338")
    assert (info["logical"], info["cores"]) == (3, 2)  # two hyperthreads share core 0
    assert info["mhz"] == 2000.0
    assert simd_level(info["flags"]) == ("avx512_vnni", 32, 128)
    assert clock_from_name(info["cpu"]) == 2.0


def test_arm_cpuinfo_without_topology_counts_logical_cpus():
    info = parse_cpuinfo(ARM)
    assert (info["logical"], info["cores"]) == (2, 2)
    assert simd_level(info["flags"]) == ("asimddp", 8, 32)


def test_avx2_without_fma_is_not_counted_as_fma():
    assert simd_level({"avx", "avx2"}) == ("avx", 8, 16)
    assert simd_level({"avx", "avx2", "fma"}) == ("avx2", 16, 32)
    assert simd_level(set()) == ("scalar", 1, 1)


def test_peak_is_cores_times_clock_times_macs_per_cycle():
    machine = Machine("cpu", 4, 8, 3.0, "test", "avx2", 16, 32, "Linux", "3.11")
    assert machine.peak_gmacs_per_s(1, "fp32") == pytest.approx(48.0)
    assert machine.peak_gmacs_per_s(2, "int8") == pytest.approx(192.0)
    assert machine.peak_gmacs_per_s(16, "fp16") == pytest.approx(192.0)  # capped at the physical cores
    assert machine.peak_gmacs_per_s(1, "dynamic") == pytest.approx(96.0)
    unknown_clock = Machine("cpu", 4, 8, None, "unknown", "avx2", 16, 32, "Linux", "3.11")
    assert unknown_clock.peak_gmacs_per_s(1, "fp32") is None


def test_this_machine_is_described():
    machine = describe_machine()
    assert machine.cores >= 1
    assert machine.logical_cpus >= machine.cores
    assert machine.cpu
    assert "numpy" in machine.libraries
    assert "torch" in machine.libraries
    assert machine.to_dict()["simd"] == machine.simd
