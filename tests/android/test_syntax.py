"""Every Kotlin source of android_demo parses (tree-sitter: syntax only, no types), including what Gradle needs."""

from pathlib import Path

from tests.syntax import first_error, tree_sitter_parser

ROOT = Path(__file__).resolve().parents[2] / "android_demo"
PARSER = tree_sitter_parser("tree_sitter_kotlin")


def test_every_kotlin_file_parses():
    sources = sorted([*ROOT.rglob("*.kt"), *ROOT.rglob("*.kts")])
    assert sources
    errors = {str(p.relative_to(ROOT)): first_error(PARSER, p.read_bytes()) for p in sources}
    assert {name: where for name, where in errors.items() if where} == {}


def test_a_syntax_error_is_found_with_its_position():
    assert first_error(PARSER, b"fun ok(x: Int) = x + 1\n") is None
    assert first_error(PARSER, b"fun ok() = 1\nfun broken( {\n") is not None
