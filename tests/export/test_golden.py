"""The golden files read back as an app would (raw little-endian bytes + manifest) and decode to their
expected values with an independent float64 implementation; reference §5 test vectors hold."""

import json
from pathlib import Path

import numpy as np
import pytest

from mhp.cli.export import main as export_main
from mhp.export.golden import write_golden
from mhp.geometry import apply_affine, invert_affine


def naive_decode(output: np.ndarray, depth: int, scale: float, zero_point: int) -> tuple[np.ndarray, np.ndarray]:
    """Per joint: dequantise, softmax over (H, W, D) in float64, expected indices. No shortcuts."""
    _, height, width, channels = output.shape
    real = (output.astype(np.float64) - zero_point) * scale
    coords, confidence = [], []
    for j in range(channels // depth):
        volume = real[0, :, :, j * depth : (j + 1) * depth]  # (H, W, D)
        p = np.exp(volume - volume.max())
        p /= p.sum()
        coords.append([(p.sum((0, 2)) * np.arange(width)).sum(), (p.sum((1, 2)) * np.arange(height)).sum(),
                       (p.sum((0, 1)) * np.arange(depth)).sum()])  # fmt: skip
        confidence.append(p.max())
    return np.array(coords), np.array(confidence)


def read_case(folder, case):
    dtype = "<f4" if case["dtype"] == "float32" else "i1"
    output = np.frombuffer((folder / case["name"] / case["output"]).read_bytes(), dtype=dtype).reshape(case["shape"])
    return output, json.loads((folder / case["name"] / case["expected"]).read_text())


def check_folder(folder):
    manifest = json.loads((folder / "manifest.json").read_text())
    tolerance = manifest["tolerances"]
    for case in manifest["cases"]:
        output, expected = read_case(folder, case)
        depth = case.get("depth_bins", manifest["depth_bins"])
        coords, confidence = naive_decode(output, depth, case.get("scale", 1.0), case.get("zero_point", 0))
        name = case["name"]
        np.testing.assert_allclose(expected["coords_voxel"], coords, atol=tolerance["coords_voxel"], err_msg=name)
        np.testing.assert_allclose(expected["confidence"], confidence, atol=tolerance["confidence"], err_msg=name)
        assert np.isfinite(expected["joints_rel_mm"]).all(), case["name"]
        camera = expected["camera"]
        crop = np.asarray(expected["joints_crop_px"])
        back = apply_affine(crop, invert_affine(np.asarray(camera["image_to_crop_affine"])))
        np.testing.assert_allclose(expected["joints_image_px"], back, atol=tolerance["joints_px"])
    return manifest


def test_golden_cases_decode_independently(tmp_path):
    write_golden(tmp_path)
    manifest = check_folder(tmp_path)
    names = [c["name"] for c in manifest["cases"]]
    assert names == [
        "blobs", "border_peak", "flat", "extreme_logits", "int8_zero_point", "off_centre_crop", "non_square_blobs",
        "non_square_corners",
    ]  # fmt: skip
    flat = json.loads((tmp_path / "flat" / "expected.json").read_text())
    np.testing.assert_allclose(flat["coords_voxel"], [[7.5, 7.5, 3.5]] * 18)  # reference §5: (W-1, H-1, D-1) / 2
    border = json.loads((tmp_path / "border_peak" / "expected.json").read_text())
    np.testing.assert_allclose(border["coords_voxel"][0], [0, 0, 0], atol=1e-6)
    assert border["argmax_voxel"][1] == [15, 15, 7]
    int8 = next(c for c in manifest["cases"] if c["name"] == "int8_zero_point")
    assert (int8["scale"], int8["zero_point"]) == (0.0625, -17)
    off = json.loads((tmp_path / "off_centre_crop" / "expected.json").read_text())
    assert off["camera"]["image_size_px"] == [1280, 720]
    assert off["camera"]["focal_px"] == [1000.0, 980.0]


def test_non_square_cases_carry_their_own_shape_and_depth(tmp_path):
    """H != W and D != 8: a decoder or crop maths that swaps height and width, or takes the manifest's depth for
    every case, fails them in Kotlin and Swift."""
    manifest = json.loads(write_golden(tmp_path).read_text())
    odd = {c["name"]: c for c in manifest["cases"] if c["name"].startswith("non_square")}
    assert set(odd) == {"non_square_blobs", "non_square_corners"}
    for case in odd.values():
        assert case["shape"] == [1, 12, 20, 18 * 6]
        assert case["depth_bins"] == 6 != manifest["depth_bins"]
    corners = json.loads((tmp_path / "non_square_corners" / "expected.json").read_text())
    assert corners["argmax_voxel"][:4] == [[0, 0, 0], [19, 0, 0], [0, 11, 5], [19, 11, 2]]  # (x, y, z): W 20, H 12
    portrait = json.loads((tmp_path / "non_square_blobs" / "expected.json").read_text())["camera"]
    assert portrait["image_size_px"] == [480, 640]
    assert portrait["box_xywh_px"][2:] == [90.0, 300.0]
    width, height = portrait["crop_box_xywh_px"][2:]
    assert width == height == pytest.approx((300 - 1) * 1.25)  # widened to a square around the tall box, x 1.25


def test_default_focal_in_the_golden_files_spans_the_long_side_in_portrait_and_landscape(tmp_path):
    write_golden(tmp_path)
    focal = {}
    for name in ("blobs", "off_centre_crop", "non_square_blobs"):
        camera = json.loads((tmp_path / name / "expected.json").read_text())["camera"]
        focal[tuple(camera["image_size_px"])] = camera["default_focal_px"]
    half_fov = np.tan(np.radians(32.5))
    assert focal[(640, 480)] == pytest.approx([320 / half_fov] * 2)
    assert focal[(480, 640)] == focal[(640, 480)]  # portrait: the same camera, the same focal length
    assert focal[(1280, 720)] == pytest.approx([640 / half_fov] * 2)


def test_golden_tolerances_are_pinned(tmp_path):
    """Loosening a tolerance would let the Kotlin and Swift decoders drift unnoticed: it takes editing this test."""
    manifest = json.loads(write_golden(tmp_path).read_text())
    assert manifest["tolerances"] == {"coords_voxel": 1e-4, "confidence": 1e-5, "joints_px": 1e-3, "joints_mm": 1e-2}
    committed = json.loads((Path(__file__).resolve().parents[2] / "golden" / "manifest.json").read_text())
    assert committed["tolerances"] == manifest["tolerances"]


@pytest.mark.slow
def test_a_real_int8_tflite_run_is_a_golden_case(small_relu_export, tmp_path):
    folder, _ = small_relu_export
    artifact = folder / "lpski_int8.tflite"
    assert export_main(["--golden", str(tmp_path), "--golden-from", str(artifact)]) == 0
    manifest = check_folder(tmp_path)
    real = manifest["cases"][-1]
    assert real["name"] == "real_tflite_int8"
    assert real["shape"] == [1, 16, 16, 18 * 32]
    assert real["input_size"] == 128
    pixels = np.frombuffer((tmp_path / "real_tflite_int8" / "input.u8").read_bytes(), np.uint8).reshape(128, 128, 3)
    from mhp.runtime import load_runner

    coords = load_runner(artifact)(pixels.transpose(2, 0, 1)[None].astype(np.float32))
    _, expected = read_case(tmp_path, real)
    np.testing.assert_allclose(expected["coords_voxel"], coords[0], atol=1e-4)  # the runner decodes the same


def numbers_close(a, b, where: str) -> None:
    """Two JSON documents equal up to float32 rounding: the expected values come from float32 sums, whose order
    (numpy's version, the decoder's blocking) moves voxels by up to 1e-5, root-relative millimetres by up to 1e-3."""
    if isinstance(a, dict):
        assert isinstance(b, dict), where
        assert a.keys() == b.keys(), where
        for key in a:
            numbers_close(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert isinstance(b, list), where
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            numbers_close(x, y, f"{where}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert b == pytest.approx(a, rel=2e-6, abs=2e-3), where
    else:
        assert a == b, where


def test_drift_detector_committed_golden_files_are_what_the_code_writes(tmp_path):
    """Drift detector: the committed files against what the code writes now. The independent checks are
    test_golden_cases_decode_independently (a float64 decoder that shares no code) and the apps' own tests."""
    committed = Path(__file__).resolve().parents[2] / "golden"
    write_golden(tmp_path)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    kept = sorted(p.relative_to(committed) for p in committed.rglob("*") if p.is_file() and p.name != "README.md")
    assert kept == written
    for name in written:
        if name.suffix == ".json":
            fresh, stored = (json.loads((folder / name).read_text()) for folder in (tmp_path, committed))
            numbers_close(fresh, stored, str(name))
        else:
            assert (tmp_path / name).read_bytes() == (committed / name).read_bytes(), name


def test_tracking_resets_on_low_confidence_and_on_leaving_the_frame(tmp_path):
    write_golden(tmp_path)
    steps = json.loads((tmp_path / "tracking.json").read_text())["steps"]
    assert [s.get("reset") for s in steps] == [None, False, False, False, False, True, True, False]
    centred = steps[0]["box_before_xywh_px"]
    assert centred == [128.0, 48.0, 384.0, 384.0]  # 0.8 x 480 centred in 640 x 480
    assert steps[5]["box_before_xywh_px"] == steps[6]["box_before_xywh_px"] == centred
    moved = [s["box_before_xywh_px"][0] for s in steps[1:5]]
    assert np.allclose(np.diff(moved), 12.0)  # the box follows the person 12 px a frame
