"""android_demo/posecore (pure Kotlin) compiled and unit-tested on this machine against the Python golden files.

Uses the toolchain `make test` installs: npm's kotlin-compiler under .tools/ and Debian's junit5 and
libandroid-json-org-java. Locally a missing tool skips; on CI (CI=true) it fails.
"""

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from mhp.bench.device import ingest_rows
from mhp.export.golden import write_golden
from mhp.export.golden_detector import write_detector_golden

ROOT = Path(__file__).resolve().parents[2]
POSECORE = ROOT / "android_demo" / "posecore"
KOTLIN_HOME = ROOT / ".tools" / "node_modules" / "kotlin-compiler"
JARS = Path("/usr/share/java")
COMPILE_JARS = ("json-android.jar", "junit-jupiter-api.jar", "apiguardian-api.jar", "opentest4j.jar")
LAUNCHER = "junit-platform-console-standalone.jar"
PHOTOS = ROOT / ".tools" / "opencv-doc"  # make photos (tests.infer.test_blazepose.PHOTOS)
DETECTOR_PHOTOS = ("basketball2.png", "fruits.jpg")  # people, and nobody
DETECTOR_CLASSES = ("mhp.posecore.DetectorGoldenTest",)
GOLDEN_CLASSES = ("mhp.posecore.GoldenTest",)

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


def write_detector_cases(golden: Path) -> Path:
    """The detector's golden files in ``golden``/detector: the scripted case (written by write_golden), and one
    real LiteRT run per photo when the bundled detector and the photos are there (on CI they must be; `make test`
    runs make detector photos)."""
    from mhp.infer.blazepose import BUNDLED, BlazePoseDetector

    if not (BUNDLED.is_file() and (PHOTOS / ".done").is_file()):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{BUNDLED} or {PHOTOS} is missing on CI: make test runs make detector photos")
        return golden / "detector" / "detector.json"  # write_golden's scripted cases only
    import cv2

    photos = {name: cv2.imread(str(PHOTOS / name))[..., ::-1].copy() for name in DETECTOR_PHOTOS}
    return write_detector_golden(golden / "detector", BlazePoseDetector(), photos)


def run_junit(
    classes: Path, golden: Path, reports: Path, bench_out: Path | None = None, select: tuple[str, ...] = ()
) -> dict[str, int]:
    """Runs the package's tests (or only the classes in ``select``) and sums the JUnit XML reports."""
    runtime = [classes, KOTLIN_HOME / "lib" / "kotlin-stdlib.jar", JARS / COMPILE_JARS[0]]
    classpath = os.pathsep.join(str(p) for p in runtime)
    properties = [f"-Dmhp.golden={golden}", *([f"-Dmhp.benchOut={bench_out}"] if bench_out else [])]
    selection = [f"--select-class={c}" for c in select] if select else ["--select-package", "mhp.posecore"]
    subprocess.run(
        ["java", *properties, "-jar", str(JARS / LAUNCHER), "-cp", classpath,
         *selection, "--reports-dir", str(reports), "--disable-banner"],
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
    detector_cases = len(json.loads(write_detector_cases(golden).read_text())["cases"])
    bench = tmp_path / "android_bench.json"
    totals = run_junit(classes, golden, tmp_path / "reports", bench)
    cases = len(json.loads((golden / "manifest.json").read_text())["cases"])
    assert totals["tests"] >= cases + detector_cases + 38
    assert totals["failures"] == totals["errors"] == totals["skipped"] == 0
    # the benchmark file posecore writes for the app is one mhp-bench reads
    timed, skipped = ingest_rows(bench)
    assert (timed.platform, timed.device, timed.delegate, timed.threads) == (
        "android", "Google Pixel 8 (shiba, Tensor G3, Android 14 (API 34))", "xnnpack", 4
    )  # fmt: skip
    assert (timed.latency_p50_ms, timed.latency_min_ms, timed.runs, timed.size_bytes) == (5.75, 5.0, 4, 4_014_744)
    assert (timed.partitions, skipped.partitions) == (1, None)
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


def corrupted_runs(
    classes: Path, golden: Path, work: Path, mutations: list[tuple[str, str, Callable]], select: tuple[str, ...]
) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """The JUnit totals of ``select`` on an uncorrupted copy of ``golden`` and on one copy per mutation ``(name, file
    under golden, change)``, four at a time: (clean totals, {name: totals})."""

    def run(index: int) -> tuple[str, dict[str, int]]:
        copy = work / f"copy{index}"
        shutil.copytree(golden, copy)
        name = "uncorrupted"
        if index < len(mutations):
            name, target, change = mutations[index]
            path = copy / target
            if target.endswith(".json"):
                edit_json(path, change)
            else:
                change(path)
        return name, run_junit(classes, copy, work / f"reports{index}", select=select)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(pool.map(run, range(len(mutations) + 1)))
    return results.pop("uncorrupted"), results


def edit_json(path: Path, change: Callable[[dict], None]) -> None:
    content = json.loads(path.read_text())
    change(content)
    path.write_text(json.dumps(content))


def nudge(values: list | dict, index: int | str, by: float) -> None:
    values[index] += by


def person_at(script: dict, step: int, person: int) -> dict:
    return script["steps"][step]["people"][person]


def flip(record: dict, key: str) -> None:
    record[key] = not record[key]


def corrupt_input(path: Path) -> None:
    values = np.fromfile(path, "<f4")
    values[1000] += 0.05  # five times the input tolerance
    values.astype("<f4").tofile(path)


SCRIPTED, TRACKING, DETECTOR_JSON = "scripted/expected.json", "tracking.json", "detector.json"
# (field, file under golden/detector, change): one value of each field the Kotlin tests compare, beyond its tolerance
DETECTOR_MUTATIONS: list[tuple[str, str, Callable]] = [
    ("anchors", DETECTOR_JSON, lambda m: nudge(m["anchors"][1000], 1, 1e-6)),
    ("letterbox affine", SCRIPTED, lambda e: nudge(e["letterbox_affine"][0], 2, 1e-3)),
    ("padding", SCRIPTED, lambda e: nudge(e["padding"], 0, 1e-3)),
    ("kept anchors", SCRIPTED, lambda e: nudge(e["kept_anchors"], 1, 1)),
    ("kept scores", SCRIPTED, lambda e: nudge(e["kept_scores"], 0, -1e-4)),
    ("kept boxes", SCRIPTED, lambda e: nudge(e["kept_boxes"][2], 3, 1e-4)),
    ("kept keypoints", SCRIPTED, lambda e: nudge(e["kept_keypoints"][1][2], 0, 1e-4)),
    ("detection score", SCRIPTED, lambda e: nudge(e["detections"][1], "score", -1e-4)),
    ("face box", SCRIPTED, lambda e: nudge(e["detections"][0]["face_box_xywh_px"], 2, 0.01)),
    ("keypoints", SCRIPTED, lambda e: nudge(e["detections"][2]["keypoints_px"][3], 1, 0.01)),
    ("crop box", SCRIPTED, lambda e: nudge(e["detections"][1]["crop_box_xywh_px"], 0, 0.01)),
    ("region", SCRIPTED, lambda e: nudge(e["detections"][0]["region_xywh_px"], 3, 0.01)),
    ("person box", SCRIPTED, lambda e: nudge(e["detections"][2]["person_box_xywh_px"], 1, 0.01)),
    ("anybody", SCRIPTED, lambda e: flip(e, "anybody")),
    ("nobody", "nobody/expected.json", lambda e: flip(e, "anybody")),
    ("tracking detector_ran", TRACKING, lambda t: flip(t["steps"][11], "detector_ran")),
    ("track_id", TRACKING, lambda t: nudge(person_at(t, 15, 1), "track_id", 1)),
    ("box cut", TRACKING, lambda t: nudge(person_at(t, 12, 0)["box_xywh_px"], 0, 0.01)),
    ("written", TRACKING, lambda t: flip(person_at(t, 14, 1), "written")),
    ("found_now", TRACKING, lambda t: flip(person_at(t, 3, 0), "found_now")),
    ("box_after", TRACKING, lambda t: nudge(person_at(t, 20, 1)["box_after_xywh_px"], 2, 0.01)),
]
REAL_MUTATIONS: list[tuple[str, str, Callable]] = [
    (
        "real face box",
        f"{DETECTOR_PHOTOS[0]}/expected.json",
        lambda e: nudge(e["detections"][0]["face_box_xywh_px"], 0, 0.01),
    ),
    ("real anybody", f"{DETECTOR_PHOTOS[1]}/expected.json", lambda e: flip(e, "anybody")),
]


def test_every_compared_detector_field_fails_the_kotlin_tests_when_corrupted(classes, tmp_path):
    """One value of each field the detector and tracker tests compare, corrupted in a fresh copy of the golden files,
    fails the Kotlin run; the uncorrupted files pass it."""
    pristine = tmp_path / "pristine"
    manifest = json.loads(write_detector_cases(pristine).read_text())
    real = [case["name"] for case in manifest["cases"] if "input" in case]
    mutations = list(DETECTOR_MUTATIONS)
    if real:
        mutations += [("input.f32", f"{real[0]}/input.f32", corrupt_input), *REAL_MUTATIONS]

    detector = [(name, f"detector/{target}", change) for name, target, change in mutations]
    clean, results = corrupted_runs(classes, pristine, tmp_path, detector, DETECTOR_CLASSES)
    assert clean["tests"] >= len(manifest["cases"]) + 2
    assert clean["failures"] == clean["errors"] == 0
    assert len(results) == len(mutations)
    unnoticed = [name for name, totals in results.items() if totals["tests"] == 0 or totals["failures"] < 1]
    assert unnoticed == []


def set_key(record: dict | list, key: str | int, value) -> None:
    record[key] = value


def case_entry(manifest: dict, name: str) -> dict:
    return next(case for case in manifest["cases"] if case["name"] == name)


def corrupt_packed_input(path: Path) -> None:
    values = np.fromfile(path, np.uint8)
    values[5000] ^= 0x40  # 64 levels off: the packing compare allows 2
    values.tofile(path)


SWAPPED = [1, 20, 12, 18 * 6]  # the non-square case's [1, 12, 20, J*D] read with H and W swapped
BLOBS, NON_SQUARE, CORNERS, OFF_CENTRE = (
    f"{name}/expected.json" for name in ("blobs", "non_square_blobs", "non_square_corners", "off_centre_crop")
)
# (field, file under golden/, change): one value of each field GoldenTest compares, beyond its tolerance (coords 1e-4,
# confidence 1e-5, pixels 1e-3, mm 1e-2, crop box 1e-6, affine and default focal and tracking 1e-9); and the
# per-case shape and depth a core must read (an H/W swap or the manifest's depth for every case fails)
GOLDEN_MUTATIONS: list[tuple[str, str, Callable]] = [
    ("coords_voxel", NON_SQUARE, lambda e: nudge(e["coords_voxel"][3], 1, 1e-3)),
    ("confidence", BLOBS, lambda e: nudge(e["confidence"], 2, 1e-4)),
    ("argmax_voxel", CORNERS, lambda e: nudge(e["argmax_voxel"][1], 0, -1)),
    ("joints_crop_px", NON_SQUARE, lambda e: nudge(e["joints_crop_px"][5], 1, 0.01)),
    ("joints_image_px", OFF_CENTRE, lambda e: nudge(e["joints_image_px"][4], 0, 0.01)),
    ("joints_rel_mm", NON_SQUARE, lambda e: nudge(e["joints_rel_mm"][6], 2, 0.1)),
    ("crop box", NON_SQUARE, lambda e: nudge(e["camera"]["crop_box_xywh_px"], 2, 1e-4)),
    ("affine", CORNERS, lambda e: nudge(e["camera"]["image_to_crop_affine"][1], 2, 1e-6)),
    ("k-value root depth", OFF_CENTRE, lambda e: nudge(e["camera"], "root_depth_k_mm", 0.1)),
    ("default focal, portrait", NON_SQUARE, lambda e: nudge(e["camera"]["default_focal_px"], 0, 1e-6)),
    ("default focal, landscape", BLOBS, lambda e: nudge(e["camera"]["default_focal_px"], 1, 1e-6)),
    ("tracking box", "tracking.json", lambda t: nudge(t["steps"][3]["box_before_xywh_px"], 0, 1e-6)),
    ("tracking reset", "tracking.json", lambda t: flip(t["steps"][5], "reset")),
    ("case depth", "manifest.json", lambda m: case_entry(m, "non_square_corners").pop("depth_bins")),
    ("case shape H/W swapped", "manifest.json", lambda m: set_key(case_entry(m, "non_square_blobs"), "shape", SWAPPED)),
]


def test_every_compared_golden_field_fails_the_kotlin_tests_when_corrupted(classes, small_relu_export, tmp_path):
    """One value of each field the decoder golden test compares, corrupted in a fresh copy of the golden files (with
    the real LiteRT case), fails the Kotlin GoldenTest run; the uncorrupted files pass it."""
    folder, _ = small_relu_export
    pristine = tmp_path / "pristine"
    write_golden(pristine, folder / "lpski_int8.tflite")
    real = "real_tflite_int8"
    q = [1 / 255, 0]  # the input quantisation of a model that wants 0-1 pixels in uint8
    mutations = [
        *GOLDEN_MUTATIONS,
        ("real input packing", f"{real}/input.u8", corrupt_packed_input),
        ("real coords_voxel", f"{real}/expected.json", lambda e: nudge(e["coords_voxel"][0], 2, 1e-3)),
        ("real input quantisation", "manifest.json", lambda m: set_key(case_entry(m, real), "input_quantization", q)),
        ("real artifact sha256", f"{real}/artifact_manifest.json", lambda a: set_key(a, "artifact_sha256", "0" * 64)),
        ("real file sha256", "manifest.json", lambda m: set_key(case_entry(m, real), "artifact_sha256", "f" * 64)),
        ("real normalisation outside the graph", f"{real}/artifact_manifest.json",
         lambda a: set_key(a["input"]["normalization"], "inside_graph", False)),
        ("real manifest version", f"{real}/artifact_manifest.json", lambda a: set_key(a, "version", 2)),
    ]  # fmt: skip

    clean, results = corrupted_runs(classes, pristine, tmp_path, mutations, GOLDEN_CLASSES)
    cases = len(json.loads((pristine / "manifest.json").read_text())["cases"])
    assert clean["tests"] == cases + 1  # one per case, and the tracker replay
    assert clean["failures"] == clean["errors"] == 0
    assert len(results) == len(mutations)
    unnoticed = [name for name, t in results.items() if t["tests"] == 0 or t["failures"] + t["errors"] < 1]
    assert unnoticed == []


def test_posecore_is_pure_kotlin_without_android_imports():
    sources = list((POSECORE / "src").rglob("*.kt"))
    assert len(sources) >= 7
    for source in sources:
        assert "import android." not in source.read_text(), source
