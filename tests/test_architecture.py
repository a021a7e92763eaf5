"""The architecture is a checked contract: the import-linter contracts of pyproject.toml hold, and break when a
module imports upward; the torch-free run path (runtime, infer) imports with torch and the converters blocked;
the package root holds only the modules the layout names."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
ROOT_MODULES = {"__init__.py", "errors.py", "geometry.py", "skeleton.py", "metrics.py", "limbs.py"}
HEAVY = ("torch", "tensorflow", "onnx2tf", "coremltools", "onnx", "onnxsim")


def lint_imports(package_parent: Path) -> subprocess.CompletedProcess:
    """lint-imports with the repository's contracts over the ``mhp`` found in ``package_parent``."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(package_parent), "HOME": str(package_parent)}
    argv = [LINT_IMPORTS, "--config", ROOT / "pyproject.toml", "--no-cache"]
    return subprocess.run(argv, cwd=package_parent, env=env, capture_output=True, text=True, timeout=300)


def test_the_contracts_hold():
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "2 kept, 0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "added", "contract"),
    [
        ("runtime/base.py", "import mhp.export.pipeline", "Stages are layered"),  # the run path reaching up
        ("models/layers.py", "from mhp.data import mix", "Stages are layered"),  # two independent siblings
        ("geometry.py", "import mhp.runtime", "The root domain modules import no stage"),
    ],
)
def test_an_upward_import_breaks_a_contract(tmp_path, module, added, contract):
    shutil.copytree(ROOT / "mhp", tmp_path / "mhp", ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "mhp" / module
    target.write_text(target.read_text() + f"\n{added}  # added by the test\n")
    done = lint_imports(tmp_path)
    assert done.returncode == 1, done.stdout[-3000:]
    assert f"{contract}" in done.stdout
    assert "BROKEN" in done.stdout
    assert f"mhp.{module.removesuffix('.py').replace('/', '.')}" in done.stdout


def test_the_run_path_imports_with_torch_and_the_converters_blocked():
    script = f"""
import importlib, json, pkgutil, sys
for name in {HEAVY!r}:
    sys.modules[name] = None  # any import of it raises ImportError
import mhp.infer, mhp.runtime
names = []
for package in (mhp.runtime, mhp.infer):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(info.name)
        names.append(info.name)
print(json.dumps(names))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    names = json.loads(done.stdout.splitlines()[-1])
    assert {"mhp.runtime.tflite", "mhp.runtime.manifest", "mhp.infer.predictor", "mhp.infer.run"} <= set(names)


def test_the_package_root_holds_only_the_domain_modules():
    loose = {p.name for p in (ROOT / "mhp").glob("*.py")}
    assert loose == ROOT_MODULES, f"modules at the root of mhp/ besides the domain ones: {sorted(loose - ROOT_MODULES)}"
    too_long = [str(p.relative_to(ROOT)) for p in (ROOT / "mhp").rglob("*.py") if len(p.read_text().splitlines()) > 400]
    assert not too_long, f"modules over 400 lines: {too_long}"
