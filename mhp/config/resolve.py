"""Resolve a command's config: dataclass defaults < a flat YAML file < the values given on the command line, with
one-line errors that name the key, the source and the closest valid key; and the config back as plain values."""

from __future__ import annotations

import dataclasses
import difflib
import sys
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from mhp.errors import MhpError

C = TypeVar("C")


def field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def unwrap_optional(tp: Any) -> tuple[Any, bool]:
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return rest[0], True
    return tp, False


def coerce(value: Any, tp: Any, key: str, source: str) -> Any:
    """``value`` converted to the field type ``tp``, or an MhpError naming the key and the source."""
    base, optional = unwrap_optional(tp)
    if value is None:
        if optional:
            return None
        raise MhpError(f"{source}: {key} cannot be empty")
    origin = typing.get_origin(base)
    try:
        if origin is tuple:
            items = value if isinstance(value, list | tuple) else [value]
            items = [part for v in items for part in (v.split(",") if isinstance(v, str) else [v]) if part != ""]
            item_type = typing.get_args(base)[0]
            return tuple(coerce(v, item_type, key, source) for v in items)
        if base is bool:
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "yes", "1", "on"):
                return True
            if str(value).lower() in ("false", "no", "0", "off"):
                return False
            raise ValueError(value)
        if base is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)
            return int(value)
        if base is float:
            if isinstance(value, bool):
                raise ValueError(value)
            return float(value)
        if base is str:
            if isinstance(value, dict | list):
                raise ValueError(value)
            return str(value)
    except (TypeError, ValueError, OverflowError):
        name = getattr(base, "__name__", str(base))
        raise MhpError(f"{source}: {key} must be {name}, got {value!r}") from None
    return value


def load_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise MhpError(f"config file {path} not found; give the path of a YAML file, or a shipped recipe by name")
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise MhpError(f"{path}: invalid YAML{where}") from None
    except UnicodeDecodeError as exc:
        raise MhpError(f"{path}: not UTF-8 text (byte {exc.start}); is it really a YAML file?") from None
    except (ValueError, RecursionError) as exc:  # a value YAML cannot build (2021-02-30), or nesting too deep
        raise MhpError(f"{path}: invalid YAML ({type(exc).__name__}); write flat 'key: value' lines") from None
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise MhpError(f"{path}: expected flat 'key: value' lines, found {type(content).__name__}")
    return content


def _check_keys(cls: type, keys: list[str], source: str) -> None:
    names = [f.name for f in dataclasses.fields(cls)]
    for key in keys:
        if not isinstance(key, str):
            raise MhpError(f"{source}: config key {key!r} is not a name; valid keys: {', '.join(names)}")
        if key not in names:
            close = difflib.get_close_matches(key, names, n=1)
            hint = f"; did you mean {close[0]}?" if close else f"; valid keys: {', '.join(names)}"
            raise MhpError(f"{source}: unknown config key {key!r}{hint}")


ROOT_KEYS = ("root", "data_root")  # old keys of a dataset folder: now the ROOT of data NAME=ROOT


def renamed_keys(cls: type, values: dict[str, Any], source: str) -> dict[str, Any]:
    """``values`` with the old names a config class keeps for one release (its ``DEPRECATED``: old key -> new key)
    renamed, each with a warning on stderr; ``--dataset NAME --root DIR`` becomes ``data: NAME=DIR``."""
    old = {k: v for k, v in values.items() if k in getattr(cls, "DEPRECATED", {})}
    if not old:
        return values
    spell = (lambda key: "--" + key.replace("_", "-")) if source == "command line" else str
    renamed = {k: v for k, v in values.items() if k not in old}
    for key, value in old.items():
        new = cls.DEPRECATED[key]
        usage = f"{spell(new)} NAME=ROOT" if new == "data" else spell(new)
        print(f"warning: {source}: {spell(key)} is deprecated (gone in the next release); use {usage}", file=sys.stderr)
        if key in ROOT_KEYS:
            continue
        if new in renamed:
            raise MhpError(f"{source}: {spell(key)} is the old name of {spell(new)}; give {spell(new)} only")
        renamed[new] = value
    root = next((old[k] for k in ROOT_KEYS if k in old), None)
    if root is not None:
        name = renamed.get("data")
        if name is None or "=" in str(name):
            old_root = next(k for k in ROOT_KEYS if k in old)
            root = root if str(root).isprintable() else repr(root)  # one line, whatever was typed
            raise MhpError(f"{source}: {spell(old_root)} {root}: name its dataset, {spell('data')} NAME={root}")
        renamed["data"] = f"{name}={root}"
    return renamed


def resolve_config(cls: type[C], *, yaml_path: str | None = None, flags: dict[str, Any] | None = None) -> C:
    """The config from dataclass defaults, then the YAML file, then the flags that were given (not None)."""
    types_ = field_types(cls)
    values: dict[str, Any] = {}
    if yaml_path:
        content = load_yaml(yaml_path)
        content = renamed_keys(cls, content, str(yaml_path)) if all(isinstance(k, str) for k in content) else content
        _check_keys(cls, list(content), str(yaml_path))
        values.update({k: coerce(v, types_[k], k, str(yaml_path)) for k, v in content.items()})
    given = renamed_keys(cls, {k: v for k, v in (flags or {}).items() if v is not None}, "command line")
    _check_keys(cls, list(given), "command line")
    values.update({k: coerce(v, types_[k], k, "command line") for k, v in given.items()})
    missing = [f.name for f in dataclasses.fields(cls) if f.name not in values and has_no_default(f)]
    if missing:
        raise MhpError(f"missing required option --{missing[0].replace('_', '-')}")
    return cls(**values)


def has_no_default(f: dataclasses.Field) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def config_dict(cfg: Any) -> dict[str, Any]:
    """The config as plain YAML/JSON-able values (tuples become lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(cfg).items()}
