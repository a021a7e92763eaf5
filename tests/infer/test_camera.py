"""Intrinsics: the stated default field of view, a given focal length, EXIF 35 mm equivalents."""

import math

import numpy as np
import pytest
from PIL import Image

from mhp.errors import MhpError
from mhp.infer.camera import EXIF_FOCAL_35MM, default_intrinsics, exif_intrinsics, intrinsics_from_focal


def test_default_focal_follows_the_field_of_view():
    assert default_intrinsics(640, 480, fov_deg=90).focal == pytest.approx((320.0, 320.0))
    default = default_intrinsics(640, 480)
    assert default.focal[0] == pytest.approx(320 / math.tan(math.radians(32.5)))
    assert default.principal == (320.0, 240.0)
    assert "65 degrees" in default.source
    assert "longer side" in default.source
    with pytest.raises(MhpError, match="field of view 0"):
        default_intrinsics(640, 480, fov_deg=0)


def test_default_focal_spans_the_longer_side_in_portrait_and_landscape():
    """A phone's field of view is across its sensor's long side, whichever way it is held: the same camera gets the
    same focal length upright and turned (posecore and PoseCore use this rule, checked on golden default_focal_px)."""
    expected = 640 / 2 / math.tan(math.radians(32.5))
    landscape, portrait = default_intrinsics(640, 480), default_intrinsics(480, 640)
    assert landscape.focal == portrait.focal == pytest.approx((expected, expected))
    assert portrait.principal == (240.0, 320.0)
    assert default_intrinsics(300, 300, fov_deg=90).focal == pytest.approx((150.0, 150.0))


def test_given_focal():
    assert intrinsics_from_focal(640, 392, 1500).to_dict() == {
        "focal_px": [1500.0, 1500.0],
        "principal_px": [320.0, 196.0],
        "source": "given",
    }
    with pytest.raises(MhpError, match="must be positive"):
        intrinsics_from_focal(640, 392, -3)


def test_exif_35mm_equivalent_scales_the_full_frame_diagonal(tmp_path):
    path = tmp_path / "phone.jpg"
    exif = Image.Exif()
    exif[EXIF_FOCAL_35MM] = 26
    Image.fromarray(np.zeros((300, 400, 3), np.uint8)).save(path, exif=exif)
    found = exif_intrinsics(path, 400, 300)
    assert found.focal[0] == pytest.approx(26 * 500 / math.hypot(36, 24))
    assert found.source.startswith("exif: 26 mm")
    plain = tmp_path / "plain.jpg"
    Image.fromarray(np.zeros((30, 40, 3), np.uint8)).save(plain)
    assert exif_intrinsics(plain, 40, 30) is None
