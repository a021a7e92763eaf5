"""Core ML packages checked on Linux: their declared inputs and outputs against the manifest (parity needs macOS)."""

from dataclasses import replace

import pytest

from mhp.export.coreml_spec import package_features, spec_mismatches
from mhp.runtime.manifest import read_manifest

pytestmark = pytest.mark.slow


def test_an_exported_package_declares_what_its_manifest_says(small_relu_export):
    out, _ = small_relu_export
    package = out / "lpski_fp16.mlpackage"
    manifest = read_manifest(package)
    inputs, outputs = package_features(package)
    size = manifest.geometry["input_size"]
    assert inputs == [{"name": manifest.input["name"], "kind": "image", "shape": [size, size], "color": "RGB"}]
    joints = manifest.outputs[0]["shape"][1]
    assert {o["name"]: o["shape"] for o in outputs} == {"coords": [1, joints, 3], "confidence": [1, joints]}
    assert spec_mismatches(package, manifest) == []


def test_a_package_that_disagrees_with_its_manifest_is_named(small_relu_export):
    out, _ = small_relu_export
    package = out / "lpski_fp32.mlpackage"
    manifest = read_manifest(package)
    bigger = replace(manifest, input={**manifest.input, "shape": [1, 3, 512, 512]})
    (problem,) = spec_mismatches(package, bigger)
    assert "512x512 RGB image" in problem
    renamed = replace(manifest, outputs=[{**manifest.outputs[0], "name": "heatmaps"}, manifest.outputs[1]])
    assert spec_mismatches(package, renamed) == [
        "outputs are ['confidence', 'coords'], the manifest says ['confidence', 'heatmaps']"
    ]
    joints = manifest.outputs[0]["shape"][1]
    fewer = [{**manifest.outputs[0], "shape": [1, joints - 1, 3]}, manifest.outputs[1]]
    assert spec_mismatches(package, replace(manifest, outputs=fewer)) == [
        f"output 'coords' has shape [1, {joints}, 3], the manifest says [1, {joints - 1}, 3]"
    ]
