"""ios_demo cannot be built here (no Swift toolchain, no Xcode): its project files are checked instead.

The Podfile with Ruby (`ruby -c`, Debian's ruby from `make ios-tools`: locally a missing ruby skips, on CI it fails)
and its exact pin, Info.plist, the XcodeGen spec, the model copy scripts against what mhp-export writes (and the
person detector against make detector's file and its sha256), a glue that hard-codes no tensor name or joint: those
come from the manifest; and the person detector wired in, with "no person" drawn without a skeleton.
"""

import hashlib
import os
import plistlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from mhp.export.pipeline import artifact_name
from mhp.runtime.manifest import manifest_path
from mhp.skeleton import H36M

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "ios_demo"
APP = DEMO / "PoseDemo"
PIN = re.compile(r"^\s*pod 'TensorFlowLiteSwift', '(\d+\.\d+\.\d+)', :subspecs => \[([^\]]*)\]", re.MULTILINE)


def require_ruby() -> str:
    ruby = shutil.which("ruby")
    if ruby is None:
        message = "ruby is missing; `make ios-tools` installs Debian's ruby"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return ruby


def test_podfile_is_valid_ruby():
    done = subprocess.run([require_ruby(), "-c", str(DEMO / "Podfile")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Syntax OK" in done.stdout


def test_a_ruby_syntax_error_is_found(tmp_path):
    broken = tmp_path / "Podfile"
    broken.write_text((DEMO / "Podfile").read_text().replace("target 'PoseDemo' do", "target 'PoseDemo' do do"))
    done = subprocess.run([require_ruby(), "-c", str(broken)], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0


def test_litert_is_pinned_exactly_with_metal_and_coreml_and_the_app_reports_that_version():
    podfile = (DEMO / "Podfile").read_text()
    (version, subspecs), *others = PIN.findall(podfile)
    assert others == []
    assert {s.strip(" '") for s in subspecs.split(",")} == {"Core", "Metal", "CoreML"}
    assert re.search(r"^platform :ios, '16\.0'$", podfile, re.MULTILINE)
    assert f'static let liteRTVersion = "{version}"' in (APP / "DeviceInfo.swift").read_text()


def test_info_plist_asks_for_the_camera_and_shares_documents():
    with open(APP / "Info.plist", "rb") as f:
        info = plistlib.load(f)
    assert len(info["NSCameraUsageDescription"]) > 20
    assert info["UIFileSharingEnabled"] is True
    assert info["LSSupportsOpeningDocumentsInPlace"] is True
    assert info["CFBundleExecutable"] == "$(EXECUTABLE_NAME)"
    # any orientation: the UI turns with the phone, PoseCore turns the frame upright by the capture rotation
    assert set(info["UISupportedInterfaceOrientations"]) == {
        "UIInterfaceOrientationPortrait",
        "UIInterfaceOrientationLandscapeLeft",
        "UIInterfaceOrientationLandscapeRight",
        "UIInterfaceOrientationPortraitUpsideDown",
    }


def test_xcodegen_spec_builds_the_app_with_posecore_and_checks_the_models():
    spec = yaml.safe_load((DEMO / "project.yml").read_text())
    assert spec["options"]["deploymentTarget"]["iOS"] == "16.0"  # the CoreML export targets iOS 16
    assert (DEMO / spec["packages"]["PoseCore"]["path"] / "Package.swift").is_file()
    target = spec["targets"]["PoseDemo"]
    assert {"package": "PoseCore"} in target["dependencies"]
    assert (DEMO / target["settings"]["base"]["INFOPLIST_FILE"]).is_file()
    models = next(s for s in target["sources"] if s["path"] == "PoseDemo/Models")
    assert (models["type"], models["buildPhase"]) == ("folder", "resources")
    (check,) = target["preBuildScripts"]
    assert "check_models.sh" in check["script"]
    assert 'static let folder = "Models"' in (APP / "ModelAssets.swift").read_text()
    assert "platforms: [.iOS(.v16)" in (DEMO / "PoseCore" / "Package.swift").read_text()


def run_script(name: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(DEMO / name), *args], capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})}
    )


def fake_export(folder: Path) -> list[str]:
    """The artifacts mhp-export names for LPSKI, each beside its manifest (an .mlpackage is a folder)."""
    names = [artifact_name("LPSKI", "int8", ".tflite"), artifact_name("LPSKI", "fp16", ".mlpackage")]
    folder.mkdir()
    (folder / names[0]).write_bytes(b"TFL3")
    (folder / names[1] / "Data").mkdir(parents=True)
    (folder / names[1] / "Manifest.json").write_text("{}")
    for name in names:
        manifest_path(folder / name).write_text("{}")
    return names


def fake_detector(folder: Path) -> dict[str, str]:
    """A stand-in pose_detection.tflite, and the environment that makes the scripts take it (DETECTOR_SHA256: its
    digest)."""
    folder.mkdir(exist_ok=True)
    path = folder / "pose_detection.tflite"
    path.write_bytes(b"\x1c\x00\x00\x00TFL3 fake detector")
    return {"DETECTOR": str(path), "DETECTOR_SHA256": hashlib.sha256(path.read_bytes()).hexdigest()}


def test_copy_models_bundles_every_artifact_with_its_manifest_and_the_detector(tmp_path):
    names = fake_export(tmp_path / "export")
    models = tmp_path / "Models"
    detector = fake_detector(tmp_path / "share")
    done = run_script("copy_models.sh", str(tmp_path / "export"), env={"MODELS_DIR": str(models), **detector})
    assert done.returncode == 0, done.stderr
    expected = [*names, *(f"{n}.json" for n in names), "pose_detection.tflite"]
    assert sorted(p.name for p in models.iterdir()) == sorted(expected)
    assert (models / "pose_detection.tflite").read_bytes() == Path(detector["DETECTOR"]).read_bytes()
    assert names == ["lpski_int8.tflite", "lpski_fp16.mlpackage"]
    assert run_script("check_models.sh", str(models), env=detector).returncode == 0


def test_missing_artifacts_or_manifests_fail_loudly(tmp_path):
    names = fake_export(tmp_path / "export")
    manifest_path(tmp_path / "export" / names[0]).unlink()
    done = run_script("copy_models.sh", str(tmp_path / "export"), names[0], env={"MODELS_DIR": str(tmp_path / "m")})
    assert done.returncode == 1
    assert "lpski_int8.tflite.json" in done.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no .tflite or .mlpackage" in run_script("copy_models.sh", str(empty)).stderr
    assert "no .tflite or .mlpackage" in run_script("check_models.sh", str(empty)).stderr
    (empty / "lpski_fp32.tflite").write_bytes(b"TFL3")
    done = run_script("check_models.sh", str(empty))
    assert done.returncode == 1
    assert "lpski_fp32.tflite has no manifest lpski_fp32.tflite.json" in done.stderr
    assert "does not exist" in run_script("check_models.sh", str(tmp_path / "nowhere")).stderr


def test_the_glue_takes_tensor_names_joints_and_sizes_from_the_manifest():
    glue = re.sub(r"//.*", "", "\n".join(p.read_text() for p in sorted(APP.glob("*.swift"))))
    code = glue.replace('dtype: "image"', "")  # CoreML's element type "image", as the manifest spells it
    for name in ("image", "heatmaps", "coords", "confidence", *H36M.joints):
        assert f'"{name}"' not in code, name
    assert "mismatch(modelInputs:" in glue  # the real tensors are checked against the manifest
    assert not re.search(r"\b(128|256|576|18)\b", glue)


def test_the_app_processes_frames_with_posecore_and_benchmarks_with_its_report():
    glue = {p.name: p.read_text() for p in APP.glob("*.swift")}
    assert "pipeline.process(frame" in glue["FrameWorker.swift"]
    assert "BenchLoop.time(" in glue["BenchmarkRunner.swift"]
    assert 'BenchReport(platform: "ios"' in glue["BenchmarkRunner.swift"]
    assert ".atomic" in glue["BenchmarkRunner.swift"]
    assert "ShareLink(item: file)" in glue["ContentView.swift"]
    assert "kCVPixelFormatType_32BGRA" in glue["CameraFeed.swift"]
    assert "[2, 1, 0, 3]" in glue["PixelBufferCopy.swift"]  # BGRA -> RGBA: PoseCore reads channel 0 as red


def test_a_missing_or_foreign_detector_fails_loudly_and_none_leaves_it_out(tmp_path):
    names = fake_export(tmp_path / "export")
    models = tmp_path / "Models"
    models.mkdir()
    (models / "kept").write_text("")
    env = {"MODELS_DIR": str(models), "DETECTOR": str(tmp_path / "nowhere" / "pose_detection.tflite")}
    done = run_script("copy_models.sh", str(tmp_path / "export"), env=env)
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()  # one line, naming the fix
    assert "pose_detection.tflite is missing" in line
    assert "make detector" in line
    assert (models / "kept").exists()  # nothing was replaced

    done = run_script("copy_models.sh", str(tmp_path / "export"), env={**env, "DETECTOR": "none"})
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in models.iterdir()) == sorted([*names, *(f"{n}.json" for n in names)])

    # a detector that is not MediaPipe 0.10.21's file fails the Xcode pre-build check; it is no artifact
    (models / "pose_detection.tflite").write_bytes(b"TFL3 something else")
    done = run_script("check_models.sh", str(models))
    assert done.returncode == 1
    assert "pose_detection.tflite is not MediaPipe 0.10.21's person detector" in done.stderr
    assert "make detector" in done.stderr
    assert "has no manifest" not in done.stderr
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "pose_detection.tflite").write_bytes(b"TFL3")
    assert "no .tflite or .mlpackage" in run_script("check_models.sh", str(alone)).stderr

    # a detector left in the export folder is not taken for an artifact without a manifest
    shutil.copy(models / "pose_detection.tflite", tmp_path / "export")
    done = run_script("copy_models.sh", str(tmp_path / "export"), env={**env, "DETECTOR": "none"})
    assert done.returncode == 0, done.stderr


def test_check_models_knows_the_detector_mhp_checks_and_copy_models_takes_make_detectors_file(tmp_path):
    from mhp.infer import blazepose

    check = (DEMO / "check_models.sh").read_text()
    assert re.search(r"DETECTOR_SHA256:-(\w+)\}", check).group(1) == blazepose.SHA256
    copy = (DEMO / "copy_models.sh").read_text()
    default = re.search(r'detector="\$\{DETECTOR:-\$here/([^}]+)\}"', copy).group(1)
    makefile = (ROOT / "Makefile").read_text()
    venv = re.search(r"^VENV := (\S+)$", makefile, re.M).group(1)
    assert re.search(r"^DETECTOR := \$\(VENV\)/share/mhp/pose_detection\.tflite$", makefile, re.M)
    assert (DEMO / default).resolve() == (ROOT / venv / "share" / "mhp" / "pose_detection.tflite").resolve()
    real = DEMO / default
    if not real.is_file():
        message = f"{real} is missing; make detector unpacks it"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    fake_export(tmp_path / "export")
    models = tmp_path / "Models"
    environment = {k: v for k, v in os.environ.items() if k not in ("DETECTOR", "DETECTOR_SHA256")}
    done = subprocess.run(
        ["bash", str(DEMO / "copy_models.sh"), str(tmp_path / "export")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**environment, "MODELS_DIR": str(models)},
    )
    assert done.returncode == 0, done.stderr  # the real file passes check_models.sh's sha256
    assert (models / "pose_detection.tflite").stat().st_size == real.stat().st_size


def test_the_app_runs_the_detector_beside_the_pose_model():
    glue = {p.name: p.read_text() for p in APP.glob("*.swift")}
    runner = glue["TFLiteDetector.swift"]
    assert "final class TFLiteDetector: DetectorRunner" in runner
    assert "func run(_ input: [Float]) throws -> DetectorOutput" in runner
    assert "Interpreter(modelPath: modelPath, options: options)" in runner
    assert "options.isXNNPackEnabled = true" in runner
    assert "options.threadCount = threads" in runner
    assert "copy(" in runner
    assert "toInputAt: 0)" in runner
    assert "interpreter.invoke()" in runner
    assert "interpreter.outputTensorCount" in runner
    assert "shape.dimensions" in runner
    # the outputs are chosen by their last dimension (12 boxes, 1 score), never by index or name
    assert "values: BlazePose.boxValues)" in runner
    assert "values: 1)" in runner
    assert "dimensions.last == values" in runner
    assert not re.search(r"output\(at: \d\)", runner)
    assert '"Identity' not in runner
    assert 'static let detectorFile = "pose_detection.tflite"' in glue["ModelAssets.swift"]
    loader = glue["ModelLoader.swift"]
    assert re.search(r"FramePipeline\(manifest: [^;]*\}, detector: detector\)", loader, re.S)
    message = re.search(r'"No person detector[^\n]*', loader).group(0)
    assert "make detector" in message
    assert "copy_models.sh" in message
    session = glue["PoseSession.swift"]
    assert "ModelLoader.detector(threads:" in session
    assert "detector: detector)" in session
    assert "[note, fallback].compactMap" in session  # a missing detector is said, and the app runs without it
    # the manifest-less detector is never listed as a pose model: ModelAssets lists manifests
    assert '.filter { $0.hasSuffix(".json") }' in glue["ModelAssets.swift"]


def test_no_person_draws_no_skeleton():
    glue = {p.name: p.read_text() for p in APP.glob("*.swift")}
    overlay = glue["SkeletonOverlay.swift"]
    guard = overlay.index("guard result.person, let pose = result.pose else")
    assert guard < overlay.index("pose.jointsImage")
    assert guard < overlay.index("bones.addLine")
    assert overlay.index("result.detections") < guard  # the detector's boxes are drawn even when nobody is shown
    assert "personBox(width: result.uprightWidth, height: result.uprightHeight)" in overlay
    for name, text in glue.items():
        assert not re.search(r"\.pose\.", text), f"{name} reads a pose that may be nil"
    content = glue["ContentView.swift"]
    assert "No person in view" in content
    assert "result.times.detectMs" in content
    assert content.count("if result.person, let pose = result.pose") == 2  # the 3D view and the depth line


# ---- issue 22: structural checks of the iOS glue (tree-sitter gives the functions; no Swift compiler here) ----


def code(text: str) -> str:
    """Swift source without // comments (so a comment naming an API does not satisfy a check)."""
    return re.sub(r"//[^\n]*", "", text)


def glue() -> dict[str, str]:
    return {p.name: code(p.read_text()) for p in APP.glob("*.swift")}


def swift_function(source: str, name: str) -> str:
    """The text of the Swift function ``name`` (tree-sitter's function_declaration), comments removed."""
    from tests.syntax import tree_sitter_parser

    parser = tree_sitter_parser("tree_sitter_swift")
    data = source.encode()
    pending = [parser.parse(data).root_node]
    while pending:
        node = pending.pop()
        if node.type == "function_declaration":
            named = node.child_by_field_name("name")
            if named is not None and data[named.start_byte : named.end_byte].decode() == name:
                return code(data[node.start_byte : node.end_byte].decode())
        pending.extend(node.children)
    raise AssertionError(f"no function {name}")


def mirroring_problems(camera: str) -> list[str]:
    """Why CameraFeed could raise AVFoundation's uncatchable exception: isVideoMirrored set while
    automaticallyAdjustsVideoMirroring is still true, or without isVideoMirroringSupported."""
    body = swift_function(camera, "unmirror")
    steps = ["isVideoMirroringSupported", "automaticallyAdjustsVideoMirroring = false", "isVideoMirrored = false"]
    where = [body.find(step) for step in steps]
    problems = [f"unmirror lacks {s}" for s, at in zip(steps, where, strict=False) if at < 0]
    if not problems and not where[0] < where[1] < where[2]:
        problems.append(f"unmirror's order is {sorted(steps, key=lambda s: body.find(s))}")
    outside = code(camera).replace(body, "")
    if re.search(r"isVideoMirrored\s*=", outside):
        problems.append("isVideoMirrored is set outside unmirror")
    if "unmirror(connection)" not in swift_function(camera, "start"):
        problems.append("start does not unmirror the data output's connection")
    return problems


def test_the_camera_never_sets_mirroring_while_avfoundation_adjusts_it():
    camera = (APP / "CameraFeed.swift").read_text()
    assert mirroring_problems(camera) == []
    swapped = camera.replace(
        "connection.automaticallyAdjustsVideoMirroring = false\n        connection.isVideoMirrored = false",
        "connection.isVideoMirrored = false\n        connection.automaticallyAdjustsVideoMirroring = false",
    )
    assert swapped != camera
    assert any("order" in p for p in mirroring_problems(swapped))  # the crash's order is caught
    unguarded = camera.replace("guard connection.isVideoMirroringSupported else {\n            return\n        }\n", "")
    assert unguarded != camera
    assert "unmirror lacks isVideoMirroringSupported" in mirroring_problems(unguarded)
    for name, text in glue().items():
        if name != "CameraFeed.swift":
            assert not re.search(r"isVideoMirrored\s*=", text), name


def test_front_and_back_cameras_and_any_orientation():
    g = glue()
    camera = g["CameraFeed.swift"]
    discovery = "AVCaptureDevice.DiscoverySession(deviceTypes: [.builtInWideAngleCamera], mediaType: .video, "
    assert discovery + "position: position)" in camera
    assert "AVCaptureDevice.default(" not in camera
    start = swift_function(camera, "start")
    assert start.index("beginConfiguration()") < start.index("removeInput") < start.index("commitConfiguration()")
    assert "func switchCamera()" in g["PoseSession.swift"]
    assert "session.switchCamera()" in g["ContentView.swift"]
    # the buffer stays in sensor orientation; PoseCore turns it upright as the preview is turned (the overlay's frame)
    assert not re.search(r"videoRotationAngle\s*=\s*90", camera)
    assert "AVCaptureDevice.RotationCoordinator(device: camera, previewLayer: layer)" in camera
    assert "videoRotationAngleForHorizonLevelPreview" in camera
    assert "rotationDegrees: info.rotationDegrees" in g["FrameWorker.swift"]
    assert "rotationDegrees: 0" not in g["FrameWorker.swift"]
    # the front camera mirrors the overlay and the 3D x axis
    assert "mirrored: session.mirrored" in g["ContentView.swift"]
    assert g["ContentView.swift"].count("mirrored: session.mirrored") == 2
    assert "[-joint[0], joint[1], joint[2]]" in g["Skeleton3DView.swift"]
    assert "mirrored: position == .front" in camera


def test_camera_intrinsics_or_the_one_fallback_said_on_screen():
    g = glue()
    camera = g["CameraFeed.swift"]
    assert camera.index("connection.isCameraIntrinsicMatrixDeliverySupported") < camera.index(
        "connection.isCameraIntrinsicMatrixDeliveryEnabled = true"
    )
    assert "kCMSampleBufferAttachmentKey_CameraIntrinsicMatrix" in camera
    assert "MemoryLayout<simd_float3x3>.size" in camera  # a short attachment is no matrix, not a crash
    mapping = g["CameraIntrinsics.swift"]
    assert "rotationDegrees" in mapping
    assert "[fy, fx]" in mapping
    # the fallback is PoseCore's, whatever PoseCore names it: the function called must be one Camera.swift declares
    called = re.findall(r"Intrinsics\.(\w+)\(width:", mapping)
    assert called
    declared = re.findall(r"public static func (\w+)\(", (DEMO / "PoseCore/Sources/PoseCore/Camera.swift").read_text())
    assert set(called) <= set(declared), (called, declared)
    assert not re.search(r"\btan\(", "\n".join(g.values()))  # no second field-of-view formula in the app
    assert '"intrinsics: fallback \\(Int(Intrinsics.defaultHorizontalFovDeg))°"' in mapping
    assert "Text(intrinsicsNote)" in g["ContentView.swift"]
    assert "worker?.intrinsics(width: width, height: height)" in g["PoseSession.swift"]


def test_the_coreml_cache_is_keyed_on_the_artifacts_sha256():
    assets = glue()["ModelAssets.swift"]
    compiled = swift_function(assets, "compiled")
    assert "CFBundleVersion" not in compiled
    assert '"\\(stem)-\\(sha).mlmodelc"' in compiled
    assert "MLModel.compileModel(at: model.artifact)" in compiled
    loader = glue()["ModelLoader.swift"]
    runner = swift_function(loader, "runner")
    assert runner.index("ModelAssets.sha256(of: model.artifact)") < runner.index("ModelAssets.check(model, sha: sha)")
    assert runner.index("ModelAssets.check(model, sha: sha)") < runner.index("ModelAssets.compiled(model, sha: sha)")


def test_the_artifact_is_checked_against_its_manifest_at_run_time():
    g = glue()
    assets = g["ModelAssets.swift"]
    manifest = (DEMO / "PoseCore/Sources/PoseCore/ModelManifest.swift").read_text()
    # PoseCore's checks (version, sha256, quantisation, inside_graph) are called when PoseCore has them
    assert "public func checkArtifact(artifactSha256:" in manifest
    assert (
        "model.manifest.checkArtifact(artifactSha256: sha, inputScale: inputScale, inputZeroPoint: inputZeroPoint)"
        in assets
    )
    assert "import CryptoKit" in assets
    assert "SHA256.hash(data:" in assets
    # mhp.runtime.manifest.artifact_sha256's folder record, for an .mlpackage
    assert '"\\(relative)\\u{0}\\(digest)\\u{0}"' in assets
    runner = swift_function(g["ModelLoader.swift"], "runner")
    assert "inputScale: scale, inputZeroPoint: zeroPoint" in runner
    assert "TfLiteTensorQuantizationParams(UnsafePointer(tensor))" in g["TFLiteRunner.swift"]


def test_the_coreml_output_check_accepts_flexible_shapes_and_checks_the_first_prediction():
    runner = glue()["CoreMLRunner.swift"]
    spec = swift_function(runner, "spec")
    assert "constraint.shapeConstraint.type" in spec
    assert ".range" in spec
    assert ".enumerated" in spec
    assert "shape.isEmpty" in spec
    run = swift_function(runner, "run")
    assert "unchecked.contains(output.name)" in run
    assert "array.shape.map" in run
    assert "actual == output.shape" in run


def test_the_banner_clears_and_the_3d_drag_turns_by_the_drag_from_its_start():
    g = glue()
    show = swift_function(g["PoseSession.swift"], "show")
    success = show[show.index("case let .success") : show.index("case let .failure")]
    assert "message = nil" in success
    assert "session.dismissMessage()" in g["ContentView.swift"]
    view = g["Skeleton3DView.swift"]
    assert not re.search(r"(yaw|pitch)\s*[+-]=", view)  # no cumulative translation added on every change
    assert "start.yaw + Double(drag.translation.width)" in view
    assert ".onEnded { _ in dragStart = nil }" in view


def test_accelerators_fall_back_to_the_cpu_loudly_and_the_benchmark_skips():
    g = glue()
    fallback = g["FallbackModel.swift"]
    run = swift_function(fallback, "run")
    assert "catch" in run
    assert "current = try load()" in run
    assert "notice =" in run
    assert "cpu = nil" in run  # one fallback, never a loop
    loader = g["ModelLoader.swift"]
    live = swift_function(loader, "liveRunner")
    assert "choice.cpuFallback" in live
    assert "failed to load" in live
    assert "try liveRunner(for: model, choice: choice)" in swift_function(loader, "pipeline")
    assert "case .metal, .coreMLDelegate: return .xnnpack(threads: 2)" in g["RuntimeChoice.swift"]
    assert "case .coreML: return .coreML(.cpuOnly)" in g["RuntimeChoice.swift"]
    assert "runner?.notice" in g["FrameWorker.swift"]
    bench = g["BenchmarkRunner.swift"]
    assert "ModelLoader.runner(for: model, choice: choice, sha: sha)" in bench  # exactly the asked runtime
    assert "liveRunner" not in bench
    assert "report.skipped(" in bench
    assert "skipped: \\(reason)" in bench


def test_no_crash_paths_in_the_glue():
    for name, text in glue().items():
        stripped = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
        assert "try!" not in stripped, name
        assert "as!" not in stripped, name
        assert not re.search(r"[\w)\]]!(?!=)", stripped), f"{name} force-unwraps"
        assert "fatalError(" not in stripped, name
    worker = glue()["FrameWorker.swift"]
    assert "seconds.isFinite ?" in worker  # Int64(NaN) traps on an invalid CMTime


def test_the_frame_turn_is_read_from_values_cached_for_the_frame_queue():
    camera = (APP / "CameraFeed.swift").read_text()
    turn = camera[camera.index("private func rotationDegrees()") :]
    turn = turn[: turn.index("\n    }\n") + 6]
    # the coordinator's angle is KVO-delivered on the main queue: the frame queue reads the cached copy, under the lock
    assert "videoRotationAngleForHorizonLevel" not in turn
    assert "angle - deliveredAngle" in turn  # the turn from the angle buffers are delivered at, not from 0
    assert "observe(\\.videoRotationAngleForHorizonLevelPreview" in camera  # the overlay's frame turns as the preview
    assert "lock.lock()" in turn
    # the front camera's swap is applied at read time, so a camera switch without a layout pass is not turned wrong
    assert "position == .front" in turn
    start = camera[camera.index("    func start(") : camera.index("    static func unmirror(")]
    assert "captureAngle = nil" in start  # the previous camera's angle is dropped on a switch
    assert "previous.forEach { if session.canAddInput($0)" in start  # a failed switch keeps the camera that worked
