"""The recipes that ship inside the package: flat YAML training recipes (``mhp-train --recipe NAME``) and export
recipes (``mhp-export --recipe NAME``). They are package data, so an installed wheel has them wherever it runs."""

from __future__ import annotations

import difflib
import reprlib
from pathlib import Path

import yaml

from mhp.errors import MhpError

FOLDER = Path(__file__).resolve().parent
# kind -> (its folder, the flag that names one, the flag that lists them)
KINDS = {
    "train": (FOLDER / "train", "--recipe", "--list-recipes"),
    "export": (FOLDER / "export", "--recipe", "--list-recipes"),
}
SUMMARY_KEYS = {
    "train": ("task", "supervision", "backbone", "data_3d", "data_2d", "protocol", "epochs"),
    "export": ("target", "precision", "int8", "fp16"),
}


def recipe_names(kind: str) -> list[str]:
    """The names of the shipped recipes of ``kind`` ("train" or "export"), sorted."""
    return sorted(path.stem for path in KINDS[kind][0].glob("*.yaml"))


def recipe_path(kind: str, name: str) -> Path:
    """The YAML file of the shipped recipe ``name``, or an MhpError that suggests the closest names."""
    folder, flag, list_flag = KINDS[kind]
    names = recipe_names(kind)
    if name in names:  # only shipped names reach the file system
        return folder / f"{name}.yaml"
    close = difflib.get_close_matches(str(name), names, n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(close)}?" if close else f"{list_flag} shows the {len(names)} there are"
    shown = reprlib.repr(name)
    raise MhpError(f"{flag} {shown}: no such shipped recipe; {hint} (a YAML file of your own: --config PATH)")


def recipe_summary(kind: str, name: str) -> str:
    """What a recipe sets that tells it apart, e.g. ``backbone=LPSKI data_3d=h36m data_2d=mpii protocol=2``."""
    content = yaml.safe_load(recipe_path(kind, name).read_text(encoding="utf-8")) or {}
    parts = []
    for key in SUMMARY_KEYS[kind]:
        value = content.get(key)
        if isinstance(value, list):  # data sets as NAME=ROOT: the names tell the recipes apart
            value = "+".join(str(v).split("=")[0] for v in value)
        if value is not None:
            parts.append(f"{key}={value}")
    return " ".join(parts)


def format_recipe_list(kind: str) -> str:
    """One line per shipped recipe of ``kind``: its name and what it sets."""
    names = recipe_names(kind)
    width = max(map(len, names))
    return "\n".join(f"{name:<{width}}  {recipe_summary(kind, name)}" for name in names)
