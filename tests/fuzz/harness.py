"""Strategies that derive inputs from a valid file (structured mutations, raw byte damage), and the outcome check:
a parser either returns a result that passes its invariants or raises mhp's own one-line error."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from mhp.errors import MhpError

OUTCOMES: dict[str, Counter] = defaultdict(Counter)
CORRECT, CLEAR_ERROR = "correct result", "clear error"

SPECIAL = st.sampled_from(
    [
        *(0, -1, 1, 0.5, -0.0, math.nan, math.inf, -math.inf, 1e308, 2**31, 2**63, -(2**63) - 1, 10**400, True),
        None,
        "",
        "1",
        "nan",
        "TS",
        "\u00b2",
        "a\nb",
        "\ud800",
        "\x00",
        [],
        {},
        [[]],
        [1, 2, 3, 4],
    ]
)
LEAVES = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12) | SPECIAL
JSON_VALUES = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=5,
)


def outcome(name: str, call: Callable[[], Any], check: Callable[[Any], None], *, errors: tuple = (MhpError,)) -> None:
    """Run ``call``: its result must pass ``check``, and an ``errors`` exception must have a one-line message."""
    try:
        result, message = call(), None
    except errors as exc:
        result, message = None, str(exc)
    if message is None:
        check(result)
        OUTCOMES[name][CORRECT] += 1
        return
    assert message.strip(), "an error with an empty message"
    assert "\n" not in message, f"multi-line message: {message!r}"
    OUTCOMES[name][CLEAR_ERROR] += 1


@st.composite
def mutated(draw: st.DrawFn, tree: Any, max_edits: int = 3) -> Any:
    """``tree`` (parsed JSON/YAML) with 1 to ``max_edits`` edits at random depths; the input is not modified."""
    for _ in range(draw(st.integers(1, max_edits))):
        tree = _edit(draw, tree)
    return tree


def _edit(draw: st.DrawFn, node: Any) -> Any:
    """Walk down a random path (usually deep) and change the node where the walk stops."""
    if isinstance(node, dict | list) and node and draw(st.integers(0, 4)) > 0:
        key = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else range(len(node))))
        copy = dict(node) if isinstance(node, dict) else list(node)
        copy[key] = _edit(draw, node[key])
        return copy
    choices = ["replace", "special", "wrap", "stringify"]
    if isinstance(node, dict):
        choices += ["delete key", "add key"] if node else ["add key"]
    if isinstance(node, list):
        choices += ["shorten", "lengthen", "drop item"] if node else ["lengthen"]
    change = draw(st.sampled_from(choices))
    if change == "replace":
        return draw(JSON_VALUES)
    if change == "special":
        return draw(SPECIAL)
    if change == "wrap":
        return [node]
    if change == "stringify":
        return json.dumps(node, allow_nan=True)
    if change == "delete key":
        key = draw(st.sampled_from(sorted(node)))
        return {k: v for k, v in node.items() if k != key}
    if change == "add key":
        return {**node, draw(st.text(max_size=8)): draw(JSON_VALUES)}
    if change == "shorten":
        return node[: draw(st.integers(0, len(node) - 1))]
    if change == "lengthen":
        return node + draw(st.lists(JSON_VALUES | st.sampled_from(node or [None]), min_size=1, max_size=3))
    index = draw(st.integers(0, len(node) - 1))
    return node[:index] + node[index + 1 :]


@st.composite
def damaged(draw: st.DrawFn, valid: bytes) -> bytes:
    """Raw damage to a valid file: truncation, flipped bytes, or unrelated text, bytes and pathological JSON."""
    kind = draw(st.sampled_from(["truncate", "flip", "text", "bytes", "pathological"]))
    if kind == "truncate":
        return valid[: draw(st.integers(0, max(len(valid) - 1, 0)))]
    if kind == "flip":
        data = bytearray(valid)
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    if kind == "text":
        return draw(st.text(max_size=200)).encode("utf-8", "surrogatepass")
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    depth = draw(st.sampled_from([50, 5000, 200000]))
    return draw(
        st.sampled_from(
            [
                *(b"[" * depth + b"]" * depth, b"{" * depth, b'{"a":' * depth + b"1" + b"}" * depth, b"1" * depth),
                b"NaN",
                b"-Infinity",
                b"null",
                b"\xef\xbb\xbf{}",
                b'"\\ud800"',
                b"1e999",
            ]
        )
    )


def json_variants(valid: Any) -> st.SearchStrategy[bytes]:
    """File contents derived from the valid JSON ``valid``: mostly structured mutations, some raw damage."""
    text = json.dumps(valid).encode("utf-8")
    structured = mutated(valid).map(lambda tree: json.dumps(tree, allow_nan=True).encode("utf-8", "surrogatepass"))
    return st.one_of(structured, structured, structured, damaged(text))


class FileSwap:
    """Puts fuzzed bytes in place of one file of a fixture folder; the original comes back on exit."""

    def __init__(self, path: Path) -> None:
        self.path, self.original = Path(path), Path(path).read_bytes()

    def put(self, data: bytes) -> None:
        self.path.write_bytes(data)

    def __enter__(self) -> FileSwap:
        return self

    def __exit__(self, *exc: object) -> None:
        self.path.write_bytes(self.original)


def fast_folder(tmp_path_factory: Any, name: str) -> Path:
    """A new folder in memory (/dev/shm) where there is one: fuzzing rewrites files thousands of times."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return Path(tempfile.mkdtemp(prefix=f"mhp-{name}-", dir=shm))
    return tmp_path_factory.mktemp(name)
