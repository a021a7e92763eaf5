"""The lock (constraints.txt): exact pins of everything .venv gets, inside setup.cfg's ranges, every range bounded
above, the README's tested versions and the calibration record in step with it, and .venv installed from it."""

import configparser
import importlib.metadata
import json
import os
import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "constraints.txt"


def read_lock() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)", line)
        assert match, f"constraints.txt: {line!r} is not an exact pin NAME==VERSION"
        name = canonicalize_name(match[1])
        assert name not in pins, f"constraints.txt pins {name} twice"
        pins[name] = match[2]
    return pins


def setup_requirements() -> list[Requirement]:
    """setup.cfg's requirements and extras, and pyproject.toml's build requirements."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    lines = config["options"]["install_requires"].splitlines()
    lines += [line for _, text in config["options.extras_require"].items() for line in text.splitlines()]
    build = re.search(r"^requires = \[(.*)\]", (ROOT / "pyproject.toml").read_text(), flags=re.M)[1]
    lines += re.findall(r'"([^"]+)"', build)
    return [Requirement(line) for line in lines if line.strip() and not line.strip().startswith("#")]


def makefile_pin(variable: str) -> Requirement:
    match = re.search(rf"^{variable} := (\S+)$", (ROOT / "Makefile").read_text(), flags=re.M)
    return Requirement(match[1])


def test_the_lock_pins_exact_versions_of_the_whole_install():
    pins = read_lock()
    assert {"pip", "setuptools", "wheel"} <= set(pins), "the build tools are locked too"
    assert "mhp" not in pins
    assert len(pins) > 60  # direct and transitive: TensorFlow alone brings dozens
    for requirement in [*setup_requirements(), makefile_pin("TORCH"), makefile_pin("ONNX2TF")]:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} (setup.cfg or Makefile) is not in constraints.txt; run make lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {name}=={pins[name]}, outside {requirement}; run make lock"
        )


def test_every_range_excludes_the_next_major():
    for requirement in setup_requirements():
        operators = {spec.operator for spec in requirement.specifier}
        assert operators & {"<", "<=", "~=", "=="}, f"setup.cfg or pyproject.toml: {requirement} has no upper bound"


def test_the_readme_names_the_locked_versions():
    pins = read_lock()
    section = (ROOT / "README.md").read_text().split("### Tested versions", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([A-Za-z0-9._-]+)` \| ([^ |]+) \|", section, flags=re.M)
    assert len(rows) >= 15
    for name, version in rows:
        locked = pins[canonicalize_name(name)]
        assert locked == version, f"README's tested versions say {name} {version}, the lock {locked}"
    python = re.search(r"CPython (\d+\.\d+\.\d+)", LOCK.read_text())[1]
    assert f"CPython {python}" in section


def test_the_calibration_record_was_made_with_the_locked_libraries():
    pins = read_lock()
    made_with = json.loads((ROOT / "calibration_data" / "manifest.json").read_text())["quickstart"]["made_with"]
    for name, version in made_with.items():
        locked = pins[canonicalize_name(name)]
        assert locked == version, (
            f"calibration_data/manifest.json was made with {name} {version}, the lock has {locked}: "
            "run .venv/bin/python calibration_data/record.py"
        )


@pytest.mark.skipif(os.environ.get("MHP_LOCKED") != "1", reason="make test sets MHP_LOCKED=1 after installing the lock")
def test_the_venv_is_installed_from_the_lock():
    wrong = []
    for name, version in read_lock().items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            wrong.append(f"{name} missing")
            continue
        if Version(installed).public != Version(version).public:  # torch's +cpu label is the wheel, not the release
            wrong.append(f"{name} {installed} (lock {version})")
    assert not wrong, f"not the locked versions: {', '.join(wrong)}; rm -r .venv && make test"
