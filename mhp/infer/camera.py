"""Camera intrinsics for back-projection: given, from EXIF, or a stated default field of view."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from mhp.errors import MhpError

DEFAULT_HORIZONTAL_FOV_DEG = 65.0  # a typical phone main camera or webcam (26 mm equivalent is ~69 degrees)
FULL_FRAME_DIAGONAL_MM = math.hypot(36.0, 24.0)
EXIF_FOCAL_35MM = 0xA405  # FocalLengthIn35mmFilm
EXIF_IFD = 0x8769


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics in pixels, and where they came from (``given``, ``exif`` or ``default``)."""

    focal: tuple[float, float]
    principal: tuple[float, float]
    source: str

    def to_dict(self) -> dict:
        return {"focal_px": list(self.focal), "principal_px": list(self.principal), "source": self.source}


def default_intrinsics(width: int, height: int, fov_deg: float = DEFAULT_HORIZONTAL_FOV_DEG) -> Intrinsics:
    """Square pixels, the principal point at the image centre, the focal length of ``fov_deg`` horizontally."""
    if not 1.0 <= fov_deg < 180.0:
        raise MhpError(f"field of view {fov_deg} degrees is not in [1, 180); pass the camera's horizontal FOV")
    focal = width / 2.0 / math.tan(math.radians(fov_deg) / 2.0)
    source = f"default: {fov_deg:g} degrees horizontal field of view"
    return Intrinsics((focal, focal), (width / 2.0, height / 2.0), source)


def intrinsics_from_focal(width: int, height: int, focal: float | tuple[float, float]) -> Intrinsics:
    fx, fy = (focal, focal) if isinstance(focal, int | float) else focal
    if fx <= 0 or fy <= 0 or not math.isfinite(fx * fy):
        raise MhpError(f"focal length {focal} px must be positive; pass --focal in pixels")
    return Intrinsics((float(fx), float(fy)), (width / 2.0, height / 2.0), "given")


def exif_intrinsics(path: str | Path, width: int, height: int) -> Intrinsics | None:
    """Intrinsics from the photo's 35 mm-equivalent focal length (EXIF), or None when it has none.

    The 35 mm equivalent scales the full-frame diagonal (43.3 mm) to the image diagonal. Needs Pillow; without
    it (the runtime-only install) EXIF is not read.
    """
    try:
        from PIL import Image
    except ImportError:
        return None
    try:
        with Image.open(path) as image:
            exif = image.getexif()
            f35 = exif.get(EXIF_FOCAL_35MM) or exif.get_ifd(EXIF_IFD).get(EXIF_FOCAL_35MM)
    except (OSError, ValueError, SyntaxError):
        return None
    if not f35:
        return None
    focal = float(f35) * math.hypot(width, height) / FULL_FRAME_DIAGONAL_MM
    return Intrinsics((focal, focal), (width / 2.0, height / 2.0), f"exif: {float(f35):g} mm (35 mm equivalent)")
