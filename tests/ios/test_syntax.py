"""Every Swift source of ios_demo parses (tree-sitter: syntax only, no types, no imports); nothing is compiled here."""

import shutil
from pathlib import Path

from tests.syntax import first_error, tree_sitter_parser

ROOT = Path(__file__).resolve().parents[2] / "ios_demo"
PARSER = tree_sitter_parser("tree_sitter_swift")


def syntax_errors(root: Path) -> dict[str, str]:
    """``{relative path: line:column}`` of every Swift file under ``root`` that does not parse."""
    errors = {str(p.relative_to(root)): first_error(PARSER, p.read_bytes()) for p in sorted(root.rglob("*.swift"))}
    return {name: where for name, where in errors.items() if where}


def test_every_swift_file_parses():
    sources = list(ROOT.rglob("*.swift"))
    assert len(sources) >= 20  # PoseCore sources and tests, Package.swift and the app
    assert syntax_errors(ROOT) == {}


def test_a_syntax_error_planted_in_the_app_is_found_with_its_file_and_position(tmp_path):
    copy = tmp_path / "ios_demo"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns("Models", "Pods", "*.xcodeproj", "*.xcworkspace"))
    victim = copy / "PoseCore" / "Sources" / "PoseCore" / "CropMath.swift"
    lines = victim.read_text().splitlines(keepends=True)
    line = next(i for i, text in enumerate(lines) if "public func inverse() -> Affine {" in text)
    lines[line] = lines[line].replace("-> Affine {", "-> Affine {{")  # one brace too many
    victim.write_text("".join(lines))
    errors = syntax_errors(copy)
    assert list(errors) == ["PoseCore/Sources/PoseCore/CropMath.swift"]
    assert first_error(PARSER, b"let x = 1\nfunc broken( {\n") is not None
    assert first_error(PARSER, b"func ok(_ x: Int) -> Int { x + 1 }\n") is None
