"""Calibration sets: the synthetic default and a user folder, with one-line errors for bad input."""

import json
import os
import platform
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

import mhp
from mhp.data.synthetic import SyntheticHumans
from mhp.errors import MhpError
from mhp.export.calibration import MIN_SAMPLES, folder_calibration, synthetic_calibration
from mhp.util.optional import MissingDependencyError, require


def write_images(folder, count, size=(48, 64)):
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(count):
        cv2.imwrite(str(folder / f"{i:04d}.png"), rng.integers(0, 256, (*size, 3), dtype=np.uint8))


def test_folder_with_boxes(tmp_path):
    write_images(tmp_path / "calib", MIN_SAMPLES)
    names = sorted(p.name for p in (tmp_path / "calib").iterdir())
    (tmp_path / "calib" / "boxes.json").write_text(json.dumps({n: [4, 4, 20, 30] for n in names}))
    calib = folder_calibration(tmp_path / "calib", 32)
    assert calib.pixels.shape == (MIN_SAMPLES, 32, 32, 3)
    assert calib.pixels.dtype == np.uint8
    assert calib.record()["samples"] == MIN_SAMPLES
    assert len(calib.sha256) == 64
    assert folder_calibration(tmp_path / "calib", 32).sha256 == calib.sha256


def test_folder_errors(tmp_path):
    with pytest.raises(MhpError, match="is not a folder"):
        folder_calibration(tmp_path / "nowhere", 32)
    write_images(tmp_path / "few", 5)
    with pytest.raises(MhpError, match="gives 5 crops; INT8 calibration needs at least 200"):
        folder_calibration(tmp_path / "few", 32)
    (tmp_path / "few" / "boxes.json").write_text("[1, 2]")
    with pytest.raises(MhpError, match=r"must map image names to \[x, y, w, h\]"):
        folder_calibration(tmp_path / "few", 32)
    (tmp_path / "few" / "boxes.json").write_text(json.dumps({"gone.jpg": [0, 0, 5, 5]}))
    with pytest.raises(MhpError, match=r"gone\.jpg is missing; remove it from boxes\.json"):
        folder_calibration(tmp_path / "few", 32)
    noise = np.random.default_rng(0).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    _, jpeg = cv2.imencode(".jpg", noise)  # mostly scan data: half of it keeps the whole header
    (tmp_path / "few" / "cut.jpg").write_bytes(jpeg.tobytes()[: len(jpeg) // 2])
    (tmp_path / "few" / "boxes.json").write_text(json.dumps({"cut.jpg": [0, 0, 40, 40]}))
    with pytest.raises(MhpError, match=r"cut\.jpg is a truncated JPEG"):
        folder_calibration(tmp_path / "few", 32)


def test_folder_crops_are_rgb(tmp_path):
    write_images(tmp_path / "calib", MIN_SAMPLES)
    for path in (tmp_path / "calib").iterdir():
        bgr = np.zeros((48, 64, 3), np.uint8)
        bgr[..., 2] = 200  # red in OpenCV's BGR order
        cv2.imwrite(str(path), bgr)
    pixels = folder_calibration(tmp_path / "calib", 32).pixels
    assert pixels[:, 8:24, 8:24, 0].min() == 200
    assert pixels[..., 1:].max() == 0


def test_synthetic_default_is_the_evaluation_crop_of_training_scenes():
    model = mhp.create_model("LPSKI", width_mult=0.25, input_size=64)
    calib = synthetic_calibration(model, {"seed": 3, "synthetic_image_size": 96}, MIN_SAMPLES)
    assert calib.id == "synthetic-seed3-n200-render96-crop64"
    assert calib.pixels.shape == (MIN_SAMPLES, 64, 64, 3)
    assert calib.pixels.std() > 10
    with pytest.raises(MhpError, match="at least 200"):
        synthetic_calibration(model, {}, 50)


def test_missing_optional_library_names_the_extra(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "onnx2tf", None)
    with pytest.raises(MissingDependencyError, match=r"install the export extra: pip install -e '.\[export\]'"):
        require("onnx2tf")


RECORD = Path(__file__).resolve().parents[2] / "calibration_data"
# Budget of the fingerprint (mean of each channel over a 4 x 4 grid of every crop, 0-255) when the pixel libraries
# differ from the recorded ones. Measured between OpenCV 4.14.0 and 5.1.0 (6 % of pixels moved, mostly by 1):
# mean 0.016, max 0.55. Another seed or crop rule moves cells by tens.
FINGERPRINT_MEAN, FINGERPRINT_MAX = 0.1, 2.0


def versions(libraries: dict[str, str]) -> str:
    return ", ".join(f"{name} {version}" for name, version in sorted(libraries.items()))


def test_calibration_crops_are_the_reference_crops_of_the_training_scenes():
    """The independent check beside the drift detector below: each calibration crop is the evaluation crop of
    reference §6.1 and §6.3 recomputed here with OpenCV alone (box clipped with the -1, squared, 1.25x, one
    warpAffine, BGR -> RGB), to rounding. Mutation tried: a 1.2x expansion in mhp.geometry.process_bbox fails it."""
    model = mhp.create_model("LPSKI", width_mult=0.25, input_size=64)
    calib = synthetic_calibration(model, {"seed": 3, "synthetic_image_size": 96}, MIN_SAMPLES)
    scenes = SyntheticHumans(MIN_SAMPLES, joint_set=model.joint_set, seed=3, image_size=(96, 96))
    for i in (0, 57, 123, 199):
        x, y, w, h = scenes.record(i).bbox_raw
        x1, y1 = max(0.0, x), max(0.0, y)
        w, h = min(95.0, x1 + max(0.0, w - 1)) - x1, min(95.0, y1 + max(0.0, h - 1)) - y1
        scale = 64 / (max(w, h) * 1.25)
        affine = np.array([[scale, 0, 32 - (x1 + w / 2) * scale], [0, scale, 32 - (y1 + h / 2) * scale]])
        crop = cv2.warpAffine(scenes.load_image(i), affine, (64, 64), flags=cv2.INTER_LINEAR)[..., ::-1]
        assert np.abs(crop.astype(int) - calib.pixels[i]).max() <= 1, i


def test_drift_detector_the_committed_quickstart_calibration_set_is_reproduced():
    """Drift detector (compares with the code's own earlier output; the check above is the independent one):
    exactly (sha256) with the libraries that made the record (the lock's) on a CPU whose BLAS kernels round as the
    recording one's; within the fingerprint budget else."""
    recorded = json.loads((RECORD / "manifest.json").read_text())["quickstart"]
    model = mhp.create_model("LPSKI", width_mult=0.5, input_size=128)
    calib = synthetic_calibration(model, recorded["checkpoint_config"], recorded["samples"])
    assert calib.id == recorded["id"]
    here = calib.record()
    if calib.sha256 == recorded["sha256"]:
        return
    story = (
        f"calibration_data/manifest.json records sha256 {recorded['sha256'][:16]} made with "
        f"{versions(recorded['made_with'])}, BLAS rounding {recorded['blas_rounding']}; this machine gives "
        f"{calib.sha256[:16]} with {versions(here['made_with'])}, BLAS rounding {here['blas_rounding']}"
    )
    same_making = here["made_with"] == recorded["made_with"] and here["blas_rounding"] == recorded["blas_rounding"]
    assert not same_making, f"{story}: made alike, other pixels, so the scenes or the crops changed"
    difference = np.abs(calib.fingerprint() - np.load(RECORD / recorded["fingerprint"]["file"]))
    measured = f"{story}: 4 x 4 grid means differ by {difference.mean():.3f} on average, {difference.max():.2f} at most"
    assert difference.mean() <= FINGERPRINT_MEAN, f"{measured} (budget {FINGERPRINT_MEAN})"
    assert difference.max() <= FINGERPRINT_MAX, f"{measured} (budget {FINGERPRINT_MAX})"


def blas_rounding_under(kernels: str) -> str:
    code = "from mhp.export.calibration import blas_rounding; print(blas_rounding())"
    env = {**os.environ, "OPENBLAS_CORETYPE": kernels}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout


@pytest.mark.skipif(platform.machine() != "x86_64", reason="OpenBLAS's x86 kernels")
def test_blas_rounding_tells_apart_the_kernels_that_gave_other_pixels():
    """The quickstart set's pixels differed under OpenBLAS's SkylakeX, Haswell and Sandybridge kernels (same
    libraries, one machine); SkylakeX and Cooperlake gave the same. The drift detector relies on this hash for it."""
    hashes = {kernels: blas_rounding_under(kernels) for kernels in ("SkylakeX", "Cooperlake", "Haswell", "Sandybridge")}
    assert hashes["SkylakeX"] == hashes["Cooperlake"]
    assert len({hashes["SkylakeX"], hashes["Haswell"], hashes["Sandybridge"]}) == 3


def test_the_fingerprint_tolerates_resampling_noise_but_not_other_scenes():
    model = mhp.create_model("LPSKI", width_mult=0.25, input_size=64)
    calib = synthetic_calibration(model, {"seed": 3, "synthetic_image_size": 96}, MIN_SAMPLES)
    rng = np.random.default_rng(0)
    noise = rng.integers(-1, 2, calib.pixels.shape) * (rng.random(calib.pixels.shape) < 0.1)  # 1 in 10 moved by 1
    jittered = replace(calib, pixels=np.clip(calib.pixels.astype(int) + noise, 0, 255).astype(np.uint8))
    other = synthetic_calibration(model, {"seed": 4, "synthetic_image_size": 96}, MIN_SAMPLES)
    assert jittered.sha256 != calib.sha256
    near = np.abs(jittered.fingerprint() - calib.fingerprint())
    far = np.abs(other.fingerprint() - calib.fingerprint())
    assert near.mean() <= FINGERPRINT_MEAN
    assert near.max() <= FINGERPRINT_MAX
    assert far.mean() > 10 * FINGERPRINT_MEAN
    assert far.max() > 10 * FINGERPRINT_MAX
    assert calib.fingerprint().shape == (MIN_SAMPLES, 4, 4, 3)
    np.testing.assert_allclose(calib.fingerprint().mean(), calib.pixels.mean(), rtol=1e-5)
