"""Tree-sitter parsing for the demo apps' syntax and mirror checks (Kotlin, Swift): syntax only, no types."""

import pytest


def tree_sitter_parser(grammar: str):
    """A parser for the grammar package ``grammar`` (``tree_sitter_kotlin``); skips when it is not installed."""
    tree_sitter = pytest.importorskip("tree_sitter")
    language = pytest.importorskip(grammar)
    return tree_sitter.Parser(tree_sitter.Language(language.language()))


def first_error(parser, source: bytes) -> str | None:
    """``line:column`` (1-based) of the first syntax error, or None."""
    pending = [parser.parse(source).root_node]
    while pending:
        node = pending.pop(0)
        if node.type == "ERROR" or node.is_missing:
            return f"{node.start_point[0] + 1}:{node.start_point[1] + 1}"
        if node.has_error:
            pending.extend(node.children)
    return None
