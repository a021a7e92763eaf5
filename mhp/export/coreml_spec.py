"""What of a Core ML package can be checked without macOS: its spec (the inputs' and outputs' names, types and
shapes) against the artifact's manifest. Running it, and so its numeric parity, needs Core ML, which only macOS has.

Shapes an ML Program leaves flexible (empty in the spec) are not compared; the apps check those on the first
prediction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mhp.util.optional import require

FLOAT_TYPES = {"FLOAT32": "float32", "FLOAT16": "float16", "DOUBLE": "float64"}
STATUS = "spec checked on Linux; numeric parity needs macOS"


def feature(description, proto) -> dict[str, Any]:
    """One input or output of the spec: its name, kind and shape (and colour space or element type)."""
    kind = description.type.WhichOneof("Type")
    if kind == "imageType":
        image = description.type.imageType
        space = proto.FeatureTypes_pb2.ImageFeatureType.ColorSpace.Name(image.colorSpace)
        return {"name": description.name, "kind": "image", "shape": [image.height, image.width], "color": space}
    if kind == "multiArrayType":
        array = description.type.multiArrayType
        dtype = proto.FeatureTypes_pb2.ArrayFeatureType.ArrayDataType.Name(array.dataType)
        return {"name": description.name, "kind": "array", "shape": list(array.shape), "dtype": dtype}
    return {"name": description.name, "kind": kind or "unknown", "shape": []}


def package_features(path: str | Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The inputs and outputs an ``.mlpackage`` (or ``.mlmodel``) declares, read with coremltools on any OS."""
    ct = require("coremltools")
    spec = ct.utils.load_spec(str(path))
    inputs = [feature(d, ct.proto) for d in spec.description.input]
    return inputs, [feature(d, ct.proto) for d in spec.description.output]


def fixed(shape: list) -> list[int | None]:
    """A manifest shape with its named dimensions (``batch``) as None."""
    return [d if isinstance(d, int) else None for d in shape]


def shape_problem(where: str, declared: list, expected: list) -> str | None:
    if not declared:
        return None  # flexible in the spec
    wanted = fixed(expected)
    if len(declared) != len(wanted) or any(w is not None and d != w for d, w in zip(declared, wanted, strict=False)):
        return f"{where} has shape {declared}, the manifest says {expected}"
    return None


def spec_mismatches(path: str | Path, manifest) -> list[str]:
    """How the package's declared inputs and outputs differ from ``manifest``'s (empty when they agree)."""
    inputs, outputs = package_features(path)
    problems = []
    wanted_input = manifest.input
    found = {f["name"]: f for f in inputs}
    if set(found) != {wanted_input["name"]}:
        problems.append(f"inputs are {sorted(found)}, the manifest says [{wanted_input['name']!r}]")
    elif wanted_input["dtype"] == "image":
        given = found[wanted_input["name"]]
        size = wanted_input["shape"][-2:]
        if given["kind"] != "image" or given["color"] != "RGB" or given["shape"] != size:
            problems.append(f"input {given} is not the manifest's {size[0]}x{size[1]} RGB image")
    else:
        given = found[wanted_input["name"]]
        problem = shape_problem(f"input {given['name']!r}", given["shape"], wanted_input["shape"])
        problems += [problem] if problem else []
        if given.get("dtype") not in FLOAT_TYPES:
            problems.append(f"input {given['name']!r} holds {given.get('dtype')}, not floats")
    declared = {f["name"]: f for f in outputs}
    expected = {o["name"]: o for o in manifest.outputs}
    if set(declared) != set(expected):
        return [*problems, f"outputs are {sorted(declared)}, the manifest says {sorted(expected)}"]
    for name, output in expected.items():
        given = declared[name]
        if given["kind"] != "array" or given.get("dtype") not in FLOAT_TYPES:
            problems.append(f"output {name!r} is {given['kind']} {given.get('dtype', '')}, not a float array")
            continue
        problem = shape_problem(f"output {name!r}", given["shape"], output["shape"])
        problems += [problem] if problem else []
    return problems


def spec_report(path: str | Path, manifest, reason: str) -> dict[str, Any]:
    """The parity entry of a Core ML artifact checked on Linux: its spec against the manifest; ``reason`` says why
    it did not run."""
    problems = spec_mismatches(path, manifest)
    report = {"status": STATUS if not problems else "FAILED: spec", "passed": None if not problems else False}
    return {**report, "reason": reason, **({"failures": problems} if problems else {})}
