"""Every Kotlin source of android_demo parses (tree-sitter: syntax only, no types), including what Gradle needs."""

from pathlib import Path

import pytest

tree_sitter = pytest.importorskip("tree_sitter")
tree_sitter_kotlin = pytest.importorskip("tree_sitter_kotlin")

ROOT = Path(__file__).resolve().parents[2] / "android_demo"
PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_kotlin.language()))


def first_error(source: bytes) -> str | None:
    """``line:column`` (1-based) of the first syntax error, or None."""
    pending = [PARSER.parse(source).root_node]
    while pending:
        node = pending.pop(0)
        if node.type == "ERROR" or node.is_missing:
            return f"{node.start_point[0] + 1}:{node.start_point[1] + 1}"
        if node.has_error:
            pending.extend(node.children)
    return None


def test_every_kotlin_file_parses():
    sources = sorted([*ROOT.rglob("*.kt"), *ROOT.rglob("*.kts")])
    assert sources
    errors = {str(p.relative_to(ROOT)): first_error(p.read_bytes()) for p in sources}
    assert {name: where for name, where in errors.items() if where} == {}


def test_a_syntax_error_is_found_with_its_position():
    assert first_error(b"fun ok(x: Int) = x + 1\n") is None
    assert first_error(b"fun ok() = 1\nfun broken( {\n") is not None
