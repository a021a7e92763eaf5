"""android_demo/posecore (pure Kotlin) compiled and unit-tested on this machine against the Python golden files.

Uses the toolchain `make test` installs: npm's kotlin-compiler under .tools/ and Debian's junit5 and
libandroid-json-org-java. Locally a missing tool skips; on CI (CI=true) it fails.
"""

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mhp.bench.device import ingest_rows
from mhp.export.golden import write_golden

ROOT = Path(__file__).resolve().parents[2]
POSECORE = ROOT / "android_demo" / "posecore"
KOTLIN_HOME = ROOT / ".tools" / "node_modules" / "kotlin-compiler"
JARS = Path("/usr/share/java")
COMPILE_JARS = ("json-android.jar", "junit-jupiter-api.jar", "apiguardian-api.jar", "opentest4j.jar")
LAUNCHER = "junit-platform-console-standalone.jar"

pytestmark = pytest.mark.slow


def require_toolchain() -> None:
    missing = [str(p) for p in (KOTLIN_HOME / "bin" / "kotlinc", *(JARS / j for j in (*COMPILE_JARS, LAUNCHER)))]
    missing = [p for p in missing if not Path(p).exists()] + ([] if shutil.which("java") else ["java"])
    if missing:
        message = f"Kotlin/JUnit toolchain missing ({', '.join(missing)}); `make test` installs it"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def classes(tmp_path_factory):
    require_toolchain()
    out = tmp_path_factory.mktemp("posecore-classes")
    sources = [str(POSECORE / "src" / "main" / "kotlin"), str(POSECORE / "src" / "test" / "kotlin")]
    classpath = os.pathsep.join(str(JARS / j) for j in COMPILE_JARS)
    done = subprocess.run(
        [str(KOTLIN_HOME / "bin" / "kotlinc"), *sources, "-cp", classpath, "-d", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def run_junit(classes: Path, golden: Path, reports: Path, bench_out: Path | None = None) -> dict[str, int]:
    runtime = [classes, KOTLIN_HOME / "lib" / "kotlin-stdlib.jar", JARS / COMPILE_JARS[0]]
    classpath = os.pathsep.join(str(p) for p in runtime)
    properties = [f"-Dmhp.golden={golden}", *([f"-Dmhp.benchOut={bench_out}"] if bench_out else [])]
    subprocess.run(
        ["java", *properties, "-jar", str(JARS / LAUNCHER), "-cp", classpath,
         "--select-package", "mhp.posecore", "--reports-dir", str(reports), "--disable-banner"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for report in reports.glob("TEST-*.xml"):
        suite = ET.parse(report).getroot()
        for key in totals:
            totals[key] += int(suite.get(key, 0))
    return totals


def test_posecore_decodes_every_golden_case_like_python(classes, small_relu_export, tmp_path):
    folder, _ = small_relu_export
    golden = tmp_path / "golden"
    write_golden(golden, folder / "lpski_int8.tflite")  # includes one real LiteRT run of an exported model
    bench = tmp_path / "android_bench.json"
    totals = run_junit(classes, golden, tmp_path / "reports", bench)
    cases = len(json.loads((golden / "manifest.json").read_text())["cases"])
    assert totals["tests"] >= cases + 12
    assert totals["failures"] == totals["errors"] == totals["skipped"] == 0
    # the benchmark file posecore writes for the app is one mhp-bench reads
    timed, skipped = ingest_rows(bench)
    assert (timed.platform, timed.device, timed.delegate, timed.threads) == (
        "android", "Google Pixel 8 (shiba, Tensor G3, Android 14 (API 34))", "xnnpack", 4
    )  # fmt: skip
    assert (timed.latency_p50_ms, timed.latency_min_ms, timed.runs, timed.size_bytes) == (5.75, 5.0, 4, 4_014_744)
    assert (skipped.status, skipped.threads) == ("skipped", None)
    assert skipped.reason == "GPU delegate: INT8 ops are not supported"


def test_a_corrupted_golden_value_fails_the_kotlin_tests(classes, tmp_path):
    golden = tmp_path / "golden"
    write_golden(golden)
    expected = golden / "blobs" / "expected.json"
    content = json.loads(expected.read_text())
    content["coords_voxel"][3][0] += 0.01  # far above the 1e-4 voxel tolerance
    expected.write_text(json.dumps(content))
    totals = run_junit(classes, golden, tmp_path / "reports")
    assert totals["tests"] > 0
    assert totals["failures"] == 1


def test_posecore_is_pure_kotlin_without_android_imports():
    sources = list((POSECORE / "src").rglob("*.kt"))
    assert len(sources) >= 7
    for source in sources:
        assert "import android." not in source.read_text(), source
