"""The package as a user installs it: a wheel built from a clean copy of the source holds every module and recipe;
installed with ``--no-deps`` into a new venv over the lock's packages (linked from this venv: nothing is
downloaded), every module imports, every console script answers ``--help``, and every recipe and preset resolves
to the config the source tree gives; with the ``runtime`` extra alone (no torch) ``mhp-infer`` runs an exported
``.tflite`` and writes what the full install writes."""

import configparser
import json
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import cv2
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from mhp.cli.export import parse_config as parse_export
from mhp.cli.infer import main as infer_main
from mhp.cli.quickstart import parse_config as parse_quickstart
from mhp.cli.train import parse_config as parse_train
from mhp.config.recipes import recipe_names
from mhp.config.resolve import config_dict
from mhp.data.synthetic import SyntheticHumans
from mhp.infer.blazepose import BUNDLED

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

ROOT = Path(__file__).resolve().parents[1]
FULL_EXTRAS = ("dev", "train", "export", "coreml", "bench", "runtime")
ALONE = ("onnx2tf",)  # installed with --no-deps by the Makefile: its own dependencies are not followed

# Run inside an installed venv from a folder outside the repository: where mhp was imported from, every module it
# has (imported), and the config every shipped recipe and preset resolves to.
PROBE = """
import importlib, json, pkgutil, sys
import mhp
from mhp.config.resolve import config_dict
from mhp.config.recipes import recipe_names
modules = ["mhp"]
for info in pkgutil.walk_packages(mhp.__path__, "mhp."):
    importlib.import_module(info.name)
    modules.append(info.name)
result = {"file": mhp.__file__, "modules": sorted(modules), "recipes": {}, "presets": {}}
if "--configs" in sys.argv:
    from mhp.cli.export import parse_config as parse_export
    from mhp.cli.train import parse_config as parse_train
    from mhp.cli.quickstart import parse_config as parse_quickstart
    result["recipes"] = {n: config_dict(parse_train(["--recipe", n])) for n in recipe_names("train")}
    presets = recipe_names("export")
    result["presets"] = {n: config_dict(parse_export(["--recipe", n, "--checkpoint", "x.pt"])) for n in presets}
    result["quickstart"] = config_dict(parse_quickstart([]))
print(json.dumps(result))
"""


def source_modules() -> list[str]:
    names = []
    for path in (ROOT / "mhp").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return sorted(names)


def console_scripts() -> list[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    lines = config["options.entry_points"]["console_scripts"].strip().splitlines()
    return [line.split("=")[0].strip() for line in lines]


def run(argv: list, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    """A command in a clean environment (no PYTHONPATH, no virtualenv of ours), failing loudly with its output."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "LANG": "C.UTF-8"}
    done = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == kwargs.get("returncode", 0), f"{argv}: exit {done.returncode}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """``pip wheel --no-deps`` of a copy of the package source (what a clean checkout builds)."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    shutil.copytree(ROOT / "mhp", source / "mhp", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
    run([*pip, "--wheel-dir", base / "dist", source], cwd=base)
    (built,) = (base / "dist").glob("mhp-*.whl")
    return built


def wheel_requirements(wheel: Path) -> list[Requirement]:
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        lines = archive.read(metadata).decode().splitlines()
    return [Requirement(line.split(":", 1)[1]) for line in lines if line.startswith("Requires-Dist:")]


def closure(requirements: list[Requirement], extras: tuple[str, ...]) -> set[str]:
    """The installed distributions ``requirements`` (with ``extras`` asked for) need, transitively."""
    todo = [r for r in requirements if applies(r, extras)]
    found: set[str] = set()
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in found:
            continue
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            pytest.fail(f"{requirement} is needed but not installed here; rm -r .venv && make test")
        found.add(name)
        todo += [child for child in map(Requirement, dist.requires or []) if applies(child, requirement.extras)]
    return found


def applies(requirement: Requirement, extras) -> bool:
    """Whether ``requirement`` is needed on this machine when ``extras`` are asked for."""
    return not requirement.marker or any(requirement.marker.evaluate({"extra": e}) for e in ("", *extras))


def make_venv(folder: Path, wheel: Path, names: set[str]) -> Path:
    """A new venv whose site-packages links the named distributions of this one, with the wheel installed."""
    run([sys.executable, "-m", "venv", "--without-pip", folder], cwd=folder.parent)
    (site,) = folder.glob("lib/python*/site-packages")
    for name in sorted(names):
        dist = distribution(name)
        for top in sorted({f.parts[0] for f in dist.files or []} - {"..", "__pycache__"}):
            if not (site / top).exists():
                (site / top).symlink_to(Path(dist.locate_file(top)).resolve())
    pip = [sys.executable, "-m", "pip", "--python", folder / "bin" / "python", "install", "--quiet"]
    run([*pip, "--no-deps", "--no-index", wheel], cwd=folder.parent)
    return folder


def probe(venv: Path, cwd: Path, *flags: str) -> dict:
    return json.loads(run([venv / "bin" / "python", "-c", PROBE, *flags], cwd=cwd).stdout.splitlines()[-1])


def test_the_wheel_holds_every_module_and_recipe(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for path in (ROOT / "mhp").rglob("*"):
        if path.suffix in (".py", ".yaml"):
            assert path.relative_to(ROOT).as_posix() in names, f"the wheel lacks {path.relative_to(ROOT)}"
    for folder in (ROOT / "mhp").rglob("*"):
        if folder.is_dir() and any(folder.glob("*.py")):
            assert (folder / "__init__.py").is_file(), f"{folder.relative_to(ROOT)} has modules but no __init__.py"
    assert {
        "mhp/train/loop.py",
        "mhp/config/recipes/train/lpski_h36m_p2.yaml",
        "mhp/config/recipes/export/mobile.yaml",
    } <= names


def test_the_installed_wheel_works_from_any_folder(wheel, tmp_path):
    full = closure(wheel_requirements(wheel), FULL_EXTRAS) | set(ALONE)
    assert {"torch", "tensorflow", "onnxruntime", "ai-edge-litert", "opencv-python-headless"} <= full
    venv = make_venv(tmp_path / "venv", wheel, full)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    found = probe(venv, elsewhere, "--configs")
    assert Path(found["file"]).is_relative_to(venv), f"mhp was imported from {found['file']}, not the installed wheel"
    assert found["modules"] == source_modules()
    assert found["recipes"] == {n: config_dict(parse_train(["--recipe", n])) for n in recipe_names("train")}
    assert set(found["recipes"]) >= {"quickstart_synthetic", "lpski_h36m_p2", "resnet50_muco", "lift_mpii_2d"}
    presets = {n: config_dict(parse_export(["--recipe", n, "--checkpoint", "x.pt"])) for n in recipe_names("export")}
    assert found["presets"] == presets
    assert found["quickstart"] == config_dict(parse_quickstart([]))
    for script in console_scripts():
        done = run([venv / "bin" / script, "--help"], cwd=elsewhere)
        assert done.stdout.startswith(f"usage: {script}"), script
    done = run([venv / "bin" / "mhp-train", "--recipe", "quickstart_synthetic", "--help"], cwd=elsewhere)
    assert "--list-recipes" in done.stdout
    listed = run([venv / "bin" / "mhp-train", "--list-recipes"], cwd=elsewhere).stdout.splitlines()
    assert [line.split()[0] for line in listed] == recipe_names("train")
    done = run([venv / "bin" / "mhp-train", "--recipe", "lpski_h36m"], cwd=elsewhere, returncode=1)
    assert "did you mean lpski_h36m_p2" in done.stderr


def test_the_runtime_extra_alone_runs_an_exported_tflite(wheel, small_relu_export, tmp_path):
    names = closure(wheel_requirements(wheel), ("runtime",))
    assert "torch" not in names
    assert {"ai-edge-litert", "onnxruntime", "opencv-python-headless", "numpy"} <= names
    venv = make_venv(tmp_path / "venv", wheel, names)
    run([venv / "bin" / "python", "-c", "import torch"], cwd=tmp_path, returncode=1)
    image = tmp_path / "person.png"
    cv2.imwrite(str(image), SyntheticHumans(1, seed=11, image_size=(256, 192)).load_image(0))
    model = small_relu_export[0] / "lpski_int8.tflite"
    infer = [venv / "bin" / "mhp-infer", image, "--model", model, "--out", tmp_path / "runtime"]
    missing = run(infer, cwd=tmp_path, returncode=1)
    assert "pose_detection.tflite is missing; run make detector" in missing.stderr  # one line, naming the fix
    (venv / "share" / "mhp").mkdir(parents=True)
    shutil.copy(BUNDLED, venv / "share" / "mhp" / BUNDLED.name)  # what make detector does for .venv
    run(infer, cwd=tmp_path)
    assert infer_main([str(image), "--model", str(model), "--out", str(tmp_path / "full")]) == 0
    alone = json.loads((tmp_path / "runtime" / "person.json").read_text())
    full = json.loads((tmp_path / "full" / "person.json").read_text())
    assert alone["frames"] == full["frames"]
    assert len(alone["frames"][0]["people"][0]["joints_cam_mm"]) == 18
