"""android_demo/app cannot be built here (no Android SDK): its structure is checked against the code it depends on.

The camera permission and launcher activity, every resource the Kotlin code names, the asset names against what
mhp-export writes, pinned versions (Kotlin = the compiler make test installs, LiteRT core = GPU), a glue that
hard-codes no tensor name, joint or shape: those come from the manifest; and the person detector wired in
(bundled by copyMhpModels from where make detector puts it, run by a LiteRT DetectorRunner, "no person" drawn
without a skeleton).
"""

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import tomllib

from mhp.export.pipeline import artifact_name
from mhp.runtime.manifest import manifest_path
from mhp.skeleton import H36M

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "android_demo"
APP = DEMO / "app"
MAIN = APP / "src" / "main"
ANDROID = "{http://schemas.android.com/apk/res/android}"
APP_SOURCES = sorted((APP / "src").rglob("*.kt"))


def source(path: Path) -> str:
    return path.read_text()


def test_manifest_asks_for_the_camera_and_launches_the_main_activity():
    manifest = ET.parse(MAIN / "AndroidManifest.xml").getroot()
    permissions = {e.get(f"{ANDROID}name") for e in manifest.iter("uses-permission")}
    assert "android.permission.CAMERA" in permissions
    (activity,) = manifest.iter("activity")
    assert activity.get(f"{ANDROID}exported") == "true"
    actions = {e.get(f"{ANDROID}name") for e in activity.iter("action")}
    assert "android.intent.action.MAIN" in actions
    name = activity.get(f"{ANDROID}name").lstrip(".")
    assert re.search(rf"\bclass {name}\b", source(MAIN / "kotlin" / "mhp" / "demo" / f"{name}.kt"))
    assert 'android:theme="@style/Theme.MhpDemo"' in source(MAIN / "AndroidManifest.xml")


def resource_names(kind: str) -> set[str]:
    names = set()
    for xml in (MAIN / "res").rglob("*.xml"):
        root = ET.parse(xml).getroot()  # every resource file parses
        if kind == "id":
            names |= {v.split("/", 1)[1] for e in root.iter() for v in e.attrib.values() if v.startswith("@+id/")}
        elif kind == "layout" and xml.parent.name == "layout":
            names.add(xml.stem)
        else:
            names |= {e.get("name") for e in root.iter(kind)}
    return names


@pytest.mark.parametrize("kind", ["id", "string", "layout", "style"])
def test_every_resource_the_code_names_exists(kind):
    used = set()
    for path in [*APP_SOURCES, *(MAIN / "res").rglob("*.xml"), MAIN / "AndroidManifest.xml"]:
        text = source(path)
        used |= set(re.findall(rf"\bR\.{kind}\.(\w+)", text)) - {"simple_spinner_dropdown_item"}
        used |= set(re.findall(rf'"@{kind}/([\w.]+)"', text))
    assert used, kind
    assert used <= resource_names(kind)


def test_custom_views_in_layouts_are_app_classes():
    for layout in (MAIN / "res" / "layout").glob("*.xml"):
        for element in ET.parse(layout).getroot().iter():
            if element.tag.startswith("mhp.demo."):
                name = element.tag.rsplit(".", 1)[1]
                assert re.search(rf"\bclass {name}\(", source(MAIN / "kotlin" / "mhp" / "demo" / f"{name}.kt"))


def gradle_default(name: str) -> str:
    pattern = rf'gradleProperty\("{re.escape(name)}"\)\.getOrElse\("([^"]+)"\)'
    match = re.search(pattern, source(APP / "build.gradle.kts"))
    assert match, name
    return match.group(1)


def test_bundled_asset_names_are_the_ones_mhp_export_writes(small_relu_export):
    folder, _ = small_relu_export
    stems = gradle_default("mhp.models").split(",")
    assert "lpski_int8" in stems
    for stem in stems:
        precision = stem.split("_", 1)[1]
        assert artifact_name("LPSKI", precision, ".tflite") == f"{stem}.tflite"
        assert (folder / f"{stem}.tflite").is_file()
        assert manifest_path(folder / f"{stem}.tflite").is_file()
    assets = source(MAIN / "kotlin" / "mhp" / "demo" / "ModelAssets.kt")
    suffix = re.search(r'MANIFEST_SUFFIX = "([^"]+)"', assets).group(1)
    assert manifest_path("lpski_int8.tflite").name == "lpski_int8.tflite" + suffix
    build = source(APP / "build.gradle.kts")
    assert 'noCompress += "tflite"' in build  # memory-mapped from the APK
    assert "throw GradleException(" in build
    assert "mhp models missing in" in build


def test_versions_are_pinned_and_litert_core_matches_its_gpu_delegate():
    catalog = tomllib.loads(source(DEMO / "gradle" / "libs.versions.toml"))
    makefile = source(ROOT / "Makefile")
    assert catalog["versions"]["kotlin"] == re.search(r"^KOTLIN_VERSION := (\S+)$", makefile, re.M).group(1)
    for version in catalog["versions"].values():
        assert re.fullmatch(r"\d+(\.\d+)*", version), version  # exact: no "+", ranges or "latest"
    litert = {k: v["version"]["ref"] for k, v in catalog["libraries"].items() if k.startswith("litert")}
    assert set(litert) == {"litert", "litert-gpu", "litert-gpu-api"}
    assert set(litert.values()) == {"litert"}
    wrapper = re.search(r"gradle-(\d+)\.(\d+)", source(DEMO / "gradle" / "wrapper" / "gradle-wrapper.properties"))
    agp = catalog["versions"]["agp"].split(".")
    assert (int(wrapper.group(1)), int(wrapper.group(2))) >= (int(agp[0]), int(agp[1]))  # AGP 8.x needs Gradle >= 8.x
    aliases = {k.replace("-", ".") for k in catalog["libraries"]} | {
        f"plugins.{k.replace('-', '.')}" for k in catalog["plugins"]
    }
    for script in DEMO.rglob("*.gradle.kts"):
        for alias in re.findall(r"\blibs\.([\w.]+)", source(script)):
            assert alias in aliases, f"{script.name}: libs.{alias} is not in libs.versions.toml"
    settings = source(DEMO / "settings.gradle.kts")
    assert 'include(":app", ":posecore")' in settings


def test_the_glue_hard_codes_no_tensor_joint_or_shape():
    forbidden = [*(f'"{n}"' for n in ("image", "heatmaps", "coords", "confidence")), *H36M.joints]
    glue_sources = [p for p in APP_SOURCES if "androidTest" not in p.parts]  # the test reads golden-file keys
    for path in [*glue_sources, *(DEMO / "posecore" / "src" / "main").rglob("*.kt")]:
        text = source(path)
        for word in forbidden:
            assert word not in text, f"{path.name} hard-codes {word}"
        assert not re.search(r"\b(128|256|576)\b", text), f"{path.name} hard-codes a model shape"
    glue = sum(len(source(p).splitlines()) for p in glue_sources)
    # 750: the LiteRT person-detector runner (LiteRtDetector.kt) is platform glue; its maths lives in posecore
    assert glue < 750, f"the app glue grew to {glue} lines: move logic into posecore, where it is tested"


def test_the_skeleton_the_app_draws_is_pythons(small_relu_export):
    """The app draws the manifest's joints record (posecore's Skeleton.fromJson): the one Python exports."""
    import json

    folder, _ = small_relu_export
    joints = json.loads(manifest_path(folder / "lpski_int8.tflite").read_text())["joints"]
    assert joints["names"] == list(H36M.joints)
    assert [tuple(b) for b in joints["bones"]] == [tuple(b) for b in H36M.bones]
    assert joints["root"] == H36M.root
    assert "manifest.skeleton" in source(MAIN / "kotlin" / "mhp" / "demo" / "MainActivity.kt")


DEMO_SOURCES = MAIN / "kotlin" / "mhp" / "demo"


def test_the_copy_task_bundles_the_detector_from_where_make_detector_puts_it():
    from mhp.infer import blazepose

    build = source(APP / "build.gradle.kts")
    assert 'val mhpDetectorFile = "pose_detection.tflite"' in build
    assert blazepose.BUNDLED.name == "pose_detection.tflite"
    # the default folder, relative to android_demo (Gradle's rootDir), is the Makefile's $(VENV)/share/mhp
    folder = re.search(r'gradleProperty\("mhp\.detector"\)\.getOrElse\(rootDir\.resolve\("([^"]+)"\)', build).group(1)
    makefile = source(ROOT / "Makefile")
    venv = re.search(r"^VENV := (\S+)$", makefile, re.M).group(1)
    assert re.search(r"^DETECTOR := \$\(VENV\)/share/mhp/pose_detection\.tflite$", makefile, re.M)
    assert (DEMO / folder).resolve() == (ROOT / venv / "share" / "mhp").resolve()
    assert blazepose.BUNDLED.parts[-3:] == ("share", "mhp", "pose_detection.tflite")
    task = build[build.index("val copyMhpModels") : build.index("// The instrumented golden test")]
    assert "from(detector) { include(mhpDetectorFile) }" in task  # copied into the same assets folder as the models
    assert "into(mhpAssets)" in task
    missing = task[task.index("if (detector != null && !detector.resolve(mhpDetectorFile).isFile)") :]
    assert "throw GradleException(" in missing
    assert "run make detector" in missing
    assert 'tasks.named("preBuild") { dependsOn(copyMhpModels) }' in build


def test_the_app_runs_the_detector_beside_the_pose_model():
    runner = source(DEMO_SOURCES / "LiteRtDetector.kt")
    assert re.search(r"class LiteRtDetector\(model: ByteBuffer, threads: Int\) : DetectorRunner, AutoCloseable", runner)
    assert "override fun run(input: FloatArray): DetectorOutput" in runner
    assert "setUseXNNPACK(true)" in runner
    assert "setNumThreads(threads)" in runner
    assert "runForMultipleInputsOutputs(" in runner
    # the outputs are chosen by their last dimension (12 boxes, 1 score), never by index or name
    assert "outputAt(outs, BlazePose.BOX_VALUES)" in runner
    assert "outputAt(outs, 1)" in runner
    assert "shape().lastOrNull() == values" in runner
    assert not re.search(r"getOutputTensor\(\d\)", runner)
    assert not re.search(r'"Identity', runner)
    assert "throw ModelProblem(" in runner  # a model LiteRT cannot load is a message, as LiteRtRunner's

    activity = source(DEMO_SOURCES / "MainActivity.kt")
    assert "LiteRtDetector(ModelAssets.detector(assets), threads)" in activity
    assert re.search(r"FramePipeline\(model\.manifest, loaded, [^\n]*detector = people\)", activity)
    assert "detector?.close()" in activity  # closed with the pose model on reload and exit
    load = activity[activity.index("private fun loadDetector") :]
    assert "catch (e: ModelProblem)" in load[: load.index("private fun closeModel")]  # no detector: no crash

    assets = source(DEMO_SOURCES / "ModelAssets.kt")
    assert 'const val DETECTOR = "pose_detection.tflite"' in assets
    assert "it != DETECTOR" in assets  # never offered as a pose model (it has no manifest)
    message = re.search(r'No person detector \(\$DETECTOR\)[^"]*', assets).group(0)
    assert "make detector" in message
    assert "copyMhpModels" in message
    assert "\n" not in message  # one line


def test_no_person_draws_no_skeleton():
    overlay = source(DEMO_SOURCES / "OverlayView.kt")
    draw = overlay[overlay.index("override fun onDraw") :]
    guard = draw.index("if (!shown.person) return")
    assert guard < draw.index("shown.pose")
    assert guard < draw.index("drawLine")
    assert draw.index("shown.detections") < guard  # the detector's boxes are drawn even when nobody is shown
    assert "personBox(shown.uprightWidth, shown.uprightHeight)" in draw
    for path in APP_SOURCES:
        assert not re.search(r"\.pose\.", source(path)), f"{path.name} reads a pose that may be null"
    activity = source(DEMO_SOURCES / "MainActivity.kt")
    assert "R.string.no_person" in activity
    assert "result.times.detectMs" in activity
    strings = ET.parse(MAIN / "res" / "values" / "strings.xml").getroot()
    texts = {e.get("name"): e.text for e in strings.iter("string")}
    assert "no person" in texts["no_person"]
    assert texts["stats"].count("%") == 7
    assert "detect" in texts["stats"]
