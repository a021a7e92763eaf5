"""ios_demo/PoseCore mirrors android_demo/posecore: the same public types and members, the same test classes and
tests (Kotlin ``fooBar`` is Swift ``testFooBar``), and Foundation only. Both sides are read with tree-sitter."""

import re
from collections.abc import Iterable
from pathlib import Path

from tests.syntax import tree_sitter_parser

ROOT = Path(__file__).resolve().parents[2]
KOTLIN = ROOT / "android_demo" / "posecore" / "src"
SWIFT = ROOT / "ios_demo" / "PoseCore"
KOTLIN_PARSER = tree_sitter_parser("tree_sitter_kotlin")
SWIFT_PARSER = tree_sitter_parser("tree_sitter_swift")

# Swift names with no Kotlin twin, and why; an entry that no longer exists in Swift fails too.
SWIFT_ONLY = {
    "PoseCoreError": "Kotlin's require() throws IllegalArgumentException; Swift's throwing functions throw this",
    "PoseCoreError.message": "the error's text (Kotlin: IllegalArgumentException.message)",
    "PoseCoreError.description": "CustomStringConvertible",
    "PoseCoreError.errorDescription": "LocalizedError: the app shows the message",
    "BenchReportTest.testCoreMLRowsNameTheCoreMLRuntime": "Swift's BenchReport writes runtime coreml for CoreML rows",
    "PipelineTest.testACoreMLImageInputIsPackedLikeTheLiteRTCrop": "Swift's FramePipeline also takes CoreML images",
}
KOTLIN_TO_SWIFT = {"toString": "description"}  # Kotlin's Any.toString is Swift's CustomStringConvertible
HIDDEN = {"private", "internal", "protected", "fileprivate"}
SWIFT_IMPORTS = {"Sources": {"Foundation"}, "Tests": {"Foundation", "XCTest", "PoseCore"}}


def text(node) -> str:
    return node.text.decode()


def modifiers(node) -> set[str]:
    """The declaration's own modifier words (``private set`` of a property's setter is not among them)."""
    found = set()
    for child in node.children:
        if child.type == "modifiers":
            found |= {word.split("(")[0] for word in text(child).split()}
    return found


def swift_name(kotlin_name: str) -> str:
    """``DEPTH_RANGE_MM`` -> ``depthRangeMm`` (constants); ``toString`` -> ``description``; others unchanged."""
    if re.fullmatch(r"[A-Z][A-Z0-9_]+", kotlin_name):
        first, *rest = kotlin_name.lower().split("_")
        return first + "".join(part.capitalize() for part in rest)
    return KOTLIN_TO_SWIFT.get(kotlin_name, kotlin_name)


def kotlin_api(sources: Iterable[bytes]) -> set[str]:
    """``Type`` and ``Type.member`` for every non-private class, object, interface, function and property."""
    names: set[str] = set()

    def walk(node, owner: str | None) -> None:
        for child in node.children:
            if HIDDEN & modifiers(child):
                continue
            if child.type in ("class_declaration", "object_declaration"):
                name = text(child.child_by_field_name("name"))
                names.add(name)
                for parameter in (n for n in child.children if n.type == "primary_constructor"):
                    for p in (p for p in parameter.children[0].children if p.type == "class_parameter"):
                        if not HIDDEN & modifiers(p) and any(c.type in ("val", "var") for c in p.children):
                            names.add(f"{name}.{text(next(c for c in p.children if c.type == 'identifier'))}")
                walk(child, name)
            elif child.type in ("class_body", "companion_object"):
                walk(child, owner)
            elif child.type == "function_declaration" and owner:
                names.add(f"{owner}.{swift_name(text(child.child_by_field_name('name')))}")
            elif child.type == "property_declaration" and owner:
                variable = next(c for c in child.children if c.type == "variable_declaration")
                names.add(f"{owner}.{swift_name(text(variable.children[0]))}")

    for source in sources:
        walk(KOTLIN_PARSER.parse(source).root_node, None)
    return names


def swift_api(sources: Iterable[bytes]) -> set[str]:
    """``Type`` and ``Type.member`` for every public struct, class, enum and protocol and their public members."""
    names: set[str] = set()
    members = ("function_declaration", "property_declaration")
    requirements = ("protocol_function_declaration", "protocol_property_declaration")
    for source in sources:
        for node in SWIFT_PARSER.parse(source).root_node.children:
            if node.type not in ("class_declaration", "protocol_declaration") or "public" not in modifiers(node):
                continue
            owner = text(node.child_by_field_name("name"))
            names.add(owner)
            for member in node.child_by_field_name("body").children:
                public = member.type in requirements or (member.type in members and "public" in modifiers(member))
                if public:
                    names.add(f"{owner}.{text(member.child_by_field_name('name'))}")
    return names


def kotlin_tests(sources: Iterable[bytes]) -> set[str]:
    """``Class.method`` of every @Test / @TestFactory method."""
    names = set()
    for source in sources:
        for node in KOTLIN_PARSER.parse(source).root_node.children:
            if node.type != "class_declaration":
                continue
            owner = text(node.child_by_field_name("name"))
            body = next(c for c in node.children if c.type == "class_body")
            for member in (m for m in body.children if m.type == "function_declaration"):
                words = {text(a).lstrip("@") for m in member.children if m.type == "modifiers" for a in m.children}
                if words & {"Test", "TestFactory"}:
                    names.add(f"{owner}.{text(member.child_by_field_name('name'))}")
    return names


def swift_tests(sources: Iterable[bytes]) -> set[str]:
    """``Class.testMethod`` of every XCTestCase subclass."""
    names = set()
    for source in sources:
        for node in SWIFT_PARSER.parse(source).root_node.children:
            inherits = {text(c) for c in node.children if c.type == "inheritance_specifier"}
            if node.type != "class_declaration" or "XCTestCase" not in inherits:
                continue
            owner = text(node.child_by_field_name("name"))
            for member in node.child_by_field_name("body").children:
                if member.type == "function_declaration":
                    name = text(member.child_by_field_name("name"))
                    names |= {f"{owner}.{name}"} if name.startswith("test") else set()
    return names


def mirror_problems(kotlin: dict[str, bytes], swift: dict[str, bytes]) -> list[str]:
    """What does not mirror, one line each; ``kotlin`` and ``swift`` map paths under src/ and PoseCore/ to sources."""
    main = [s for p, s in kotlin.items() if p.startswith("main/")]
    tests = [s for p, s in kotlin.items() if p.startswith("test/")]
    pairs = (name.split(".") for name in kotlin_tests(tests))
    expected = kotlin_api(main) | {f"{owner}.test{test[0].upper()}{test[1:]}" for owner, test in pairs}
    found = swift_api(s for p, s in swift.items() if p.startswith("Sources/"))
    found |= swift_tests(s for p, s in swift.items() if p.startswith("Tests/"))
    problems = [f"missing in Swift: {name}" for name in sorted(expected - found)]
    problems += [f"Swift-only, not in SWIFT_ONLY: {name}" for name in sorted(found - expected - SWIFT_ONLY.keys())]
    problems += [f"SWIFT_ONLY names what Swift lacks: {name}" for name in sorted(SWIFT_ONLY.keys() - found)]
    return problems


def sources(root: Path, suffix: str) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob(f"*{suffix}"))}


def test_posecore_mirrors_every_kotlin_type_member_and_test():
    kotlin, swift = sources(KOTLIN, ".kt"), sources(SWIFT, ".swift")
    assert len(kotlin_api(s for p, s in kotlin.items() if p.startswith("main/"))) > 80
    assert len(kotlin_tests(s for p, s in kotlin.items() if p.startswith("test/"))) >= 17
    assert mirror_problems(kotlin, swift) == []


def test_a_missing_mirror_fails_with_its_name():
    kotlin, swift = sources(KOTLIN, ".kt"), sources(SWIFT, ".swift")
    crop = "Sources/PoseCore/CropMath.swift"
    swift[crop] = swift[crop].replace(b"public func inverse()", b"public func invert()")
    motion = "Tests/PoseCoreTests/MotionTest.swift"
    swift[motion] = swift[motion].replace(b"func testFpsMeterCountsFramesOverItsWindow", b"func fpsMeterCounts")
    assert mirror_problems(kotlin, swift) == [
        "missing in Swift: Affine.inverse",
        "missing in Swift: MotionTest.testFpsMeterCountsFramesOverItsWindow",
        "Swift-only, not in SWIFT_ONLY: Affine.invert",
    ]


def test_constants_and_to_string_map_to_swift_names():
    assert swift_name("DEPTH_RANGE_MM") == "depthRangeMm"
    assert swift_name("MIN_CONFIDENCE") == "minConfidence"
    assert swift_name("EXPANSION") == "expansion"
    assert swift_name("toString") == "description"
    assert swift_name("softArgmax") == "softArgmax"


def test_posecore_imports_only_foundation_and_its_tests_xctest():
    for path, source in sources(SWIFT, ".swift").items():
        if path == "Package.swift":
            continue
        imports = set(re.findall(rb"^\s*(?:@testable\s+)?import\s+(\w+)", source, re.MULTILINE))
        allowed = SWIFT_IMPORTS[path.split("/")[0]]
        assert imports, path
        assert {i.decode() for i in imports} <= allowed, path  # no UIKit, CoreML, TensorFlowLite, AVFoundation
