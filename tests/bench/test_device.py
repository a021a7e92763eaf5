"""Phones: benchmark_model output parsing, adb device handling against a fake adb, and the apps' file contract."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mhp.bench.device import (
    APP_FORMAT,
    CONFIGS,
    android_rows,
    describe_device,
    failure_reason,
    ingest_rows,
    parse_adb_devices,
    parse_benchmark_output,
    pick_device,
)
from mhp.bench.schema import NOT_SCORED, SKIPPED
from mhp.errors import MhpError
from mhp.runtime.manifest import ExportManifest, write_manifest

FIXTURES = Path(__file__).parent / "fixtures"
PIXEL_PROPS = {
    "ro.product.manufacturer": "Google", "ro.product.model": "Pixel 7", "ro.soc.manufacturer": "Google",
    "ro.soc.model": "GS201", "ro.board.platform": "gs201", "ro.hardware": "panther",
    "ro.build.version.release": "14", "ro.build.version.sdk": "34", "ro.product.cpu.abi": "arm64-v8a",
}  # fmt: skip
PIXEL = "Google Pixel 7 (Google GS201, Android 14, API 34, arm64-v8a)"
# which recorded output the fake phone prints: the first rule whose words all appear in the command
RULES = [
    {"when": ["--use_xnnpack=true", "int8"], "fixture": "benchmark_model_xnnpack_partial.txt"},
    {"when": ["--use_xnnpack=true"], "fixture": "benchmark_model_xnnpack_complete.txt"},
    {"when": ["--use_xnnpack=false"], "fixture": "benchmark_model_cpu_no_percentiles.txt"},
    {"when": ["--use_gpu=true"], "fixture": "benchmark_model_gpu_failure.txt", "exit": 1},
    {"when": ["--use_nnapi=true", "int8"], "fixture": "benchmark_model_segfault.txt", "exit": 139},
    {"when": ["--use_nnapi=true"], "fixture": "benchmark_model_nnapi_not_delegated.txt"},
]
FAKE_ADB = """#!{python}
import json, os, sys

argv = sys.argv[1:]
with open(os.environ["FAKE_ADB_LOG"], "a") as log:
    log.write(json.dumps(argv) + "\\n")
if argv == ["devices"]:
    sys.stdout.write(os.environ["FAKE_ADB_DEVICES"])
    sys.exit(0)
if argv[0] != "-s":
    sys.exit("error: fake adb expects -s SERIAL")
words = argv[2:]
if words[:2] == ["shell", "getprop"]:
    print(json.loads(os.environ["FAKE_ADB_PROPS"]).get(words[2], ""))
elif words[0] == "push":
    print(f"{{words[1]}}: 1 file pushed, 0 skipped. 38.1 MB/s ({{os.path.getsize(words[1])}} bytes in 0.001s)")
elif words[:2] in (["shell", "mkdir"], ["shell", "chmod"]):
    pass
elif words[0] == "shell" and words[1].endswith("/benchmark_model"):
    line = " ".join(words[1:])
    rule = next(r for r in json.loads(os.environ["FAKE_ADB_RULES"]) if all(w in line for w in r["when"]))
    for text in open(os.path.join(os.environ["FAKE_ADB_FIXTURES"], rule["fixture"])):
        stream = sys.stderr if text.startswith("ERROR:") else sys.stdout  # as benchmark_model logs
        stream.write(text)
        stream.flush()
    sys.exit(rule.get("exit", 0))
else:
    sys.exit(f"error: fake adb got {{argv}}")
"""


def fixture(name):
    return (FIXTURES / name).read_text()


@pytest.fixture
def phone(tmp_path, monkeypatch):
    """A fake ``adb`` first on PATH: one Pixel 7 attached; returns the argv log reader."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    adb = bin_dir / "adb"
    adb.write_text(FAKE_ADB.format(python=sys.executable))
    adb.chmod(0o755)
    log = tmp_path / "adb.log"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_ADB_LOG", str(log))
    monkeypatch.setenv("FAKE_ADB_DEVICES", "List of devices attached\n28031FDH2000K7\tdevice\n\n")
    monkeypatch.setenv("FAKE_ADB_PROPS", json.dumps(PIXEL_PROPS))
    monkeypatch.setenv("FAKE_ADB_RULES", json.dumps(RULES))
    monkeypatch.setenv("FAKE_ADB_FIXTURES", str(FIXTURES))
    return lambda: [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def artifact(folder, name, precision, *, manifest=True):
    """A stand-in .tflite (benchmark_model is fake, so the bytes do not matter) and its real manifest."""
    path = folder / name
    path.write_bytes(b"TFL3" + bytes(996))
    if manifest:
        write_manifest(path, ExportManifest(
            artifact=name, format="tflite", precision=precision, model="LPSKI", model_kwargs={},
            input={"name": "image"}, outputs=[{"name": "coords"}], decode="in_graph", joints={},
            geometry={"input_size": 256}, source_checkpoint={"path": "x.pt", "sha256": "0"}, tools={},
        ))  # fmt: skip
    return path


@pytest.fixture
def tool(tmp_path):
    path = tmp_path / "benchmark_model"
    path.write_bytes(b"\x7fELF")
    return path


def test_parse_xnnpack_complete_with_percentiles():
    timings = parse_benchmark_output(fixture("benchmark_model_xnnpack_complete.txt"))
    assert timings.init_ms == pytest.approx(22.051)
    assert timings.mean_ms == pytest.approx(20.3116)
    assert timings.median_ms == pytest.approx(20.205)  # the timed runs' median, not the warm-up's 21.348
    assert timings.min_ms == pytest.approx(19.873)
    assert (timings.runs, timings.warmup) == (50, 24)  # warm-up ran 24 times to fill warmup_min_secs
    assert timings.peak_memory_mb == pytest.approx(24.8164)
    assert timings.partitions == {"XNNPACK": 1}


def test_parse_partial_delegation_counts_kernels():
    timings = parse_benchmark_output(fixture("benchmark_model_xnnpack_partial.txt"))
    assert timings.partitions == {"TfLiteXNNPackDelegate": 42, "XNNPACK": 42}
    assert (timings.runs, timings.median_ms, timings.mean_ms) == (77, pytest.approx(12.893), pytest.approx(13.0248))


def test_parse_older_output_without_percentiles():
    timings = parse_benchmark_output(fixture("benchmark_model_cpu_no_percentiles.txt"))
    assert timings.median_ms is None
    assert timings.mean_ms == pytest.approx(43.8027)
    assert timings.min_ms == pytest.approx(42.981)
    assert timings.init_ms == pytest.approx(4.873)
    assert timings.peak_memory_mb == pytest.approx(21.9805)  # "Peak memory footprint (MB): ... overall="
    assert timings.partitions == {}


def test_parse_all_same_runs_and_scientific_notation():
    text = (
        "INFO: count=1 curr=9992420\n\nINFO: count=20 curr=8460(all same) p5=8460 median=8460 p95=8460\n\n"
        "INFO: Inference timings in us: Init: 25558, First inference: 9992420, Warmup (avg): 9.99242e+06, "
        "Inference (avg): 8460\n"
    )
    timings = parse_benchmark_output(text)
    assert (timings.runs, timings.warmup) == (20, 1)
    assert timings.min_ms == timings.median_ms == timings.mean_ms == pytest.approx(8.46)
    assert timings.peak_memory_mb is None
    assert parse_benchmark_output("ERROR: Failed to allocate tensors!\nERROR: Benchmarking failed.\n") is None


def test_failure_reasons_name_the_cause():
    assert failure_reason(fixture("benchmark_model_gpu_failure.txt"), 1) == (
        "Failed to apply GPU delegate: TfLiteGpuDelegate Init: QUANTIZE: Tensor type INT8 is not supported by "
        "the OpenCL backend"
    )
    assert failure_reason(fixture("benchmark_model_segfault.txt"), 139) == (
        "benchmark_model crashed (exit code 139): Segmentation fault"
    )
    bad_graph = "ERROR: Failed to mmap model /data/local/tmp/mhp/x.tflite\nERROR: Benchmarking failed.\n"
    assert failure_reason(bad_graph, 1) == "Failed to mmap model /data/local/tmp/mhp/x.tflite"
    assert failure_reason("", 0) == "benchmark_model printed no timing line (exit code 0)"


def test_adb_devices_parsing_and_choice():
    text = (
        "* daemon not running; starting now at tcp:5037\n* daemon started successfully\nList of devices attached\n"
        "28031FDH2000K7\tdevice\nemulator-5554\toffline\nR5CT90ABCDE\tunauthorized\n"
        "0123456789AB\tno permissions (missing udev rules? user is in the plugdev group); see [http://x]\n\n"
    )
    entries = parse_adb_devices(text)
    assert [s for s, _ in entries] == ["28031FDH2000K7", "emulator-5554", "R5CT90ABCDE", "0123456789AB"]
    assert pick_device(entries, None) == "28031FDH2000K7"  # the only ready one
    assert pick_device(entries, "28031FDH2000K7") == "28031FDH2000K7"
    with pytest.raises(MhpError, match="R5CT90ABCDE is unauthorized: unlock it and accept the USB debugging"):
        pick_device(entries, "R5CT90ABCDE")
    with pytest.raises(MhpError, match="emulator-5554 is offline"):
        pick_device(entries, "emulator-5554")
    with pytest.raises(MhpError, match="no permission to open Android device 0123456789AB: fix the udev rules"):
        pick_device(entries, "0123456789AB")
    with pytest.raises(MhpError, match="'XYZ' is not attached \\(adb devices lists 28031FDH2000K7, emulator-5554"):
        pick_device(entries, "XYZ")
    with pytest.raises(MhpError, match="Android device R5CT90ABCDE is unauthorized"):
        pick_device(entries[2:3], None)


def test_device_description_falls_back_to_the_board():
    assert describe_device(PIXEL_PROPS) == PIXEL
    samsung = {"ro.product.manufacturer": "samsung", "ro.product.model": "SM-S911B", "ro.board.platform": "kalama",
               "ro.build.version.release": "13", "ro.product.cpu.abi": "arm64-v8a"}  # fmt: skip
    assert describe_device(samsung) == "samsung SM-S911B (kalama, Android 13, arm64-v8a)"
    assert describe_device({"ro.product.manufacturer": "Xiaomi", "ro.product.model": "Xiaomi 13"}) == "Xiaomi 13"


def test_android_rows_on_a_fake_phone(tmp_path, phone, tool):
    fp32 = artifact(tmp_path, "lpski_fp32.tflite", "fp32")
    int8 = artifact(tmp_path, "lpski_int8.tflite", "int8")
    rows = android_rows([fp32, int8], benchmark_model=tool, runs=50, warmup_runs=5, log_dir=tmp_path / "logs")

    assert [(r.artifact, r.delegate, r.threads) for r in rows] == [
        (str(a), c.delegate, c.threads) for a in (fp32, int8) for c in CONFIGS
    ]
    assert {(r.model, r.format, r.runtime, r.platform, r.device, r.input_size) for r in rows} == {
        ("LPSKI", "tflite", "benchmark_model", "android", PIXEL, 256)
    }
    assert [r.precision for r in rows] == ["fp32"] * 6 + ["int8"] * 6
    assert {r.size_bytes for r in rows} == {1000}
    by = {(Path(r.artifact).name, r.delegate, r.threads): r for r in rows}

    xnnpack = by["lpski_fp32.tflite", "xnnpack", 1]
    assert xnnpack.status == NOT_SCORED
    assert xnnpack.reason == ""
    assert (xnnpack.latency_p50_ms, xnnpack.latency_mean_ms, xnnpack.latency_min_ms) == (20.205, 20.3116, 19.873)
    assert (xnnpack.latency_p90_ms, xnnpack.latency_p99_ms) == (None, None)  # benchmark_model prints p5/p95 only
    assert xnnpack.throughput_fps == pytest.approx(1000 / 20.3116)
    assert (xnnpack.init_ms, xnnpack.peak_memory_mb, xnnpack.partitions) == (22.051, 24.8164, 1)
    assert (xnnpack.runs, xnnpack.warmup) == (50, 24)

    assert by["lpski_int8.tflite", "xnnpack", 4].partitions == 42
    cpu = by["lpski_fp32.tflite", "cpu", 4]
    assert (cpu.latency_p50_ms, cpu.latency_mean_ms, cpu.latency_min_ms, cpu.partitions) == (
        None,
        43.8027,
        42.981,
        None,
    )
    assert cpu.peak_memory_mb == 21.9805

    gpu = by["lpski_fp32.tflite", "gpu", None]
    assert gpu.status == SKIPPED
    assert gpu.latency_mean_ms is None
    assert gpu.runs is None
    assert gpu.reason.startswith("Failed to apply GPU delegate: TfLiteGpuDelegate Init: QUANTIZE")
    nnapi = by["lpski_fp32.tflite", "nnapi", None]
    assert (nnapi.status, nnapi.partitions, nnapi.latency_p50_ms) == (NOT_SCORED, 0, 44.087)
    assert nnapi.reason == "the nnapi delegate took no ops; the whole graph ran on the CPU"
    crashed = by["lpski_int8.tflite", "nnapi", None]
    assert (crashed.status, crashed.reason) == (SKIPPED, "benchmark_model crashed (exit code 139): Segmentation fault")

    devices, *calls = phone()
    assert devices == ["devices"]
    assert all(call[:2] == ["-s", "28031FDH2000K7"] for call in calls)
    assert [c[2:] for c in calls if c[2] == "push"] == [
        ["push", str(tool), "/data/local/tmp/mhp/benchmark_model"],
        ["push", str(fp32), "/data/local/tmp/mhp/lpski_fp32.tflite"],
        ["push", str(int8), "/data/local/tmp/mhp/lpski_int8.tflite"],
    ]
    assert ["shell", "chmod", "+x", "/data/local/tmp/mhp/benchmark_model"] in [c[2:] for c in calls]
    runs = [c[3:] for c in calls if c[3:4] == ["/data/local/tmp/mhp/benchmark_model"]]
    assert runs[0] == [
        "/data/local/tmp/mhp/benchmark_model", "--graph=/data/local/tmp/mhp/lpski_fp32.tflite", "--num_threads=1",
        "--use_xnnpack=false", "--num_runs=50", "--warmup_runs=5", "--report_peak_memory_footprint=true",
    ]  # fmt: skip
    assert [r[2:-3] for r in runs[:6]] == [list(c.flags) for c in CONFIGS]
    assert len(runs) == 12

    gpu_log = (tmp_path / "logs" / "lpski_fp32.tflite.gpu.log").read_text()
    assert "ERROR: Failed to apply GPU delegate." in gpu_log
    assert "INFO: Use gpu: [1]" in gpu_log


def test_artifact_without_manifest_is_timed_as_a_peer(tmp_path, phone, tool):
    peer = artifact(tmp_path, "pose_landmark_full.tflite", "", manifest=False)
    rows = android_rows([peer], benchmark_model=tool, configs=CONFIGS[2:3])
    assert len(rows) == 1
    assert (rows[0].model, rows[0].precision, rows[0].input_size, rows[0].status) == (
        "pose_landmark_full.tflite", "?", None, NOT_SCORED
    )  # fmt: skip
    assert "pose_landmark_full.tflite.json is missing" in rows[0].reason
    assert rows[0].reason.endswith("timed as a peer model")
    assert rows[0].latency_mean_ms == 20.3116


def test_serial_picks_one_of_several(tmp_path, phone, tool, monkeypatch):
    monkeypatch.setenv("FAKE_ADB_DEVICES", "List of devices attached\nAAA111\tdevice\n28031FDH2000K7\tdevice\n")
    rows = android_rows([artifact(tmp_path, "m.tflite", "fp16")], benchmark_model=tool, serial="AAA111",
                        configs=CONFIGS[:1])  # fmt: skip
    assert rows[0].latency_mean_ms == 43.8027
    assert {tuple(c[:2]) for c in phone()[1:]} == {("-s", "AAA111")}


@pytest.mark.parametrize(
    ("devices", "message"),
    [
        ("List of devices attached\n\n", r"no Android device attached: connect one and enable USB debugging \(adb"),
        ("List of devices attached\nAAA111\tdevice\nBBB222\tdevice\n", r"2 Android devices attached \(AAA111, BBB222"),
        ("List of devices attached\nAAA111\tunauthorized\n", "AAA111 is unauthorized: unlock it and accept"),
        ("List of devices attached\nAAA111\toffline\n", "AAA111 is offline: reconnect it"),
    ],
)
def test_device_errors(tmp_path, phone, tool, monkeypatch, devices, message):
    monkeypatch.setenv("FAKE_ADB_DEVICES", devices)
    with pytest.raises(MhpError, match=message):
        android_rows([artifact(tmp_path, "m.tflite", "fp32")], benchmark_model=tool)
    assert phone() == [["devices"]]  # nothing pushed


def test_local_errors_come_before_the_phone(tmp_path, phone, tool, monkeypatch):
    model = artifact(tmp_path, "m.tflite", "fp32")
    with pytest.raises(MhpError, match=r"missing_tool does not exist; pass TFLite's benchmark_model binary"):
        android_rows([model], benchmark_model=tmp_path / "missing_tool")
    with pytest.raises(MhpError, match=r"gone\.tflite is not an existing \.tflite file"):
        android_rows([tmp_path / "gone.tflite"], benchmark_model=tool)
    assert phone() == []
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(MhpError, match="adb not found or not executable: install Android platform-tools or pass --adb"):
        android_rows([model], benchmark_model=tool)
    with pytest.raises(MhpError, match="/opt/sdk/adb not found"):
        android_rows([model], benchmark_model=tool, adb="/opt/sdk/adb")


def test_a_run_past_the_timeout_is_skipped(tmp_path, phone, tool):
    def run(argv, **kwargs):
        if argv[4:5] == ["/data/local/tmp/mhp/benchmark_model"]:
            raise subprocess.TimeoutExpired(argv, kwargs["timeout"])
        return subprocess.run(argv, **kwargs)

    rows = android_rows([artifact(tmp_path, "m.tflite", "fp32")], benchmark_model=tool, configs=CONFIGS[:2],
                        timeout=5, run=run)  # fmt: skip
    assert [(r.status, r.reason) for r in rows] == [(SKIPPED, "killed after 5 s")] * 2


def test_ios_file_round_trips_to_rows():
    rows = ingest_rows(FIXTURES / "app_bench_ios.json")
    assert len(rows) == 7
    assert {r.platform for r in rows} == {"ios"}
    assert {r.device for r in rows} == {"iPhone 14 Pro (iPhone15,2, A16, iOS 17.4)"}
    assert [r.delegate for r in rows] == ["all", "cpuAndGPU", "cpuOnly", "all", "xnnpack", "gpu", "gpu"]
    ane = rows[0]
    assert (ane.format, ane.precision, ane.runtime, ane.threads, ane.status) == (
        "coreml", "fp16", "coreml", None, NOT_SCORED
    )  # fmt: skip
    assert (ane.latency_p50_ms, ane.latency_p90_ms, ane.latency_p99_ms, ane.runs) == (2.41, 2.58, 3.12, 100)
    assert (ane.size_bytes, ane.input_size, ane.init_ms) == (4710432, 256, 183.5)
    assert rows[4].threads == 2
    assert rows[5].partitions == 1
    assert (rows[6].status, rows[6].latency_mean_ms) == (SKIPPED, None)
    assert rows[6].reason.startswith("Metal delegate: QUANTIZE")


def ios_file(tmp_path, name="ios.json", **changes):
    content = json.loads((FIXTURES / "app_bench_ios.json").read_text())
    content.update(changes)
    path = tmp_path / name
    path.write_text(json.dumps(content))
    return path


def test_ios_row_keeps_its_own_device_and_fills_platform(tmp_path):
    row = {"model": "LPSKI", "format": "coreml", "precision": "fp16", "runtime": "coreml", "threads": None,
           "status": "latency only", "device": "iPad Pro (iPad14,5, M2, iPadOS 17.4)"}  # fmt: skip
    (parsed,) = ingest_rows(ios_file(tmp_path, rows=[row], device={"model": "iPhone15,2", "os": "iOS 17.4"}))
    assert (parsed.device, parsed.platform) == ("iPad Pro (iPad14,5, M2, iPadOS 17.4)", "ios")
    (parsed,) = ingest_rows(ios_file(tmp_path, rows=[{**row, "device": ""}], device={"model": "x", "os": "iOS 18"}))
    assert parsed.device == "x (iOS 18)"


def test_ios_errors_are_one_line(tmp_path):
    cases = [
        (tmp_path / "none.json", r"none\.json does not exist; copy the app's benchmark JSON"),
        (ios_file(tmp_path, "a.json", format_name="mhp-bench-android"), "format_name 'mhp-bench-android', expected"),
        (ios_file(tmp_path, "b.json", version=2), "has version 2; this mhp reads version 1"),
        (ios_file(tmp_path, "c.json", device={"name": "iPhone"}), "device field 'model' must be non-empty text"),
        (ios_file(tmp_path, "d.json", rows=[]), "'rows' must be a non-empty list"),
        (ios_file(tmp_path, "e.json", app="MhpDemo"), "'app' must be an object"),
        (ios_file(tmp_path, "f.json", platform="web"), "'platform' is 'web'; expected one of android, ios"),
    ]
    for path, message in cases:
        with pytest.raises(MhpError, match=message):
            ingest_rows(path)
    (tmp_path / "broken.json").write_text('{"format_name": "mhp-bench-app",')
    with pytest.raises(MhpError, match=r"broken\.json is not valid JSON"):
        ingest_rows(tmp_path / "broken.json")
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(MhpError, match="format_name 'list'"):
        ingest_rows(tmp_path / "list.json")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"threads": "two"}, r"rows\[1\]: field 'threads' must be a number or null, got 'two'"),
        ({"latency_p50_ms": -1}, r"rows\[1\]: field 'latency_p50_ms' must be a finite non-negative number"),
        ({"fps": 3}, r"rows\[1\]: unknown field 'fps'"),
        ({"status": "ok"}, r"rows\[1\]: status 'ok' is not one of"),
        ({"platform": "android"}, r"rows\[1\]: field 'platform' is 'android'; rows in this file are 'ios'"),
    ],
)
def test_a_bad_ios_row_is_named(tmp_path, change, message):
    rows = json.loads((FIXTURES / "app_bench_ios.json").read_text())["rows"]
    rows[1] = {**rows[1], **change}
    with pytest.raises(MhpError, match=message) as error:
        ingest_rows(ios_file(tmp_path, rows=rows))
    assert "\n" not in str(error.value)


def test_readme_example_ingests(tmp_path):
    readme = (Path(__file__).resolve().parents[2] / "benchmarks" / "README.md").read_text()
    example = next(b for b in re.findall(r"```json\n(.*?)```", readme, flags=re.S) if APP_FORMAT in b)
    (tmp_path / "example.json").write_text(example)
    (row,) = ingest_rows(tmp_path / "example.json")
    assert (row.device, row.delegate, row.latency_p50_ms, row.latency_mean_ms) == (
        "iPhone 14 Pro (iPhone15,2, A16, iOS 17.4)", "all", 2.41, 2.47
    )  # fmt: skip


def test_android_file_rows_take_the_android_platform(tmp_path):
    row = {"model": "LPSKI", "format": "tflite", "precision": "int8", "runtime": "litert", "threads": 4,
           "delegate": "xnnpack", "status": "latency only", "latency_p50_ms": 6.5}  # fmt: skip
    device = {"model": "shiba", "name": "Pixel 8", "chip": "Tensor G3", "os": "Android 14 (API 34)"}
    (parsed,) = ingest_rows(ios_file(tmp_path, platform="android", device=device, rows=[row]))
    assert (parsed.platform, parsed.device) == ("android", "Pixel 8 (shiba, Tensor G3, Android 14 (API 34))")
    with pytest.raises(MhpError, match="rows in this file are 'android'"):
        ingest_rows(ios_file(tmp_path, platform="android", device=device, rows=[{**row, "platform": "ios"}]))
