"""Camera intrinsics for back-projection: given, from EXIF, or a stated default field of view."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from mhp.errors import MhpError
from mhp.util.image_file import open_header

# Across the frame's LONGER side, whichever way the camera is held: a phone camera's field of view is quoted across
# the sensor's long side. A typical phone main camera or webcam (26 mm equivalent is ~69 degrees). The name is kept
# from when it was applied across the width; posecore (Kotlin) and PoseCore (Swift) use the same rule.
DEFAULT_HORIZONTAL_FOV_DEG = 65.0
FULL_FRAME_DIAGONAL_MM = math.hypot(36.0, 24.0)
EXIF_FOCAL_35MM = 0xA405  # FocalLengthIn35mmFilm
EXIF_IFD = 0x8769


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics in pixels, and where they came from (``given``, ``exif`` or ``default``)."""

    focal: tuple[float, float]
    principal: tuple[float, float]
    source: str

    def __post_init__(self) -> None:
        for name in ("focal", "principal"):
            values = getattr(self, name)
            try:
                x, y = (float(v) for v in values)
            except (TypeError, ValueError):
                raise MhpError(f"intrinsics {name} {values!r} is not two numbers (pixels)") from None
            if not math.isfinite(x * y) or (name == "focal" and min(x, y) <= 0):
                kind = "positive" if name == "focal" else "finite"
                raise MhpError(f"intrinsics {name} {values!r} must be two {kind} numbers (pixels)")

    def to_dict(self) -> dict:
        return {"focal_px": list(self.focal), "principal_px": list(self.principal), "source": self.source}


def default_intrinsics(width: int, height: int, fov_deg: float = DEFAULT_HORIZONTAL_FOV_DEG) -> Intrinsics:
    """Square pixels, the principal point at the image centre, and ``fov_deg`` across the image's longer side:
    fx = fy = (max(width, height) / 2) / tan(fov / 2), so a portrait and a landscape frame of one camera get the
    same focal length (as posecore's and PoseCore's ``Intrinsics.fromFov``)."""
    if not 1.0 <= fov_deg < 180.0:
        raise MhpError(f"field of view {fov_deg} degrees is not in [1, 180); pass the FOV across the long side")
    focal = max(width, height) / 2.0 / math.tan(math.radians(fov_deg) / 2.0)
    source = f"default: {fov_deg:g} degrees field of view across the longer side"
    return Intrinsics((focal, focal), (width / 2.0, height / 2.0), source)


def intrinsics_from_focal(width: int, height: int, focal: float | tuple[float, float]) -> Intrinsics:
    fx, fy = (focal, focal) if isinstance(focal, int | float) else focal
    if fx <= 0 or fy <= 0 or not math.isfinite(fx * fy):
        raise MhpError(f"focal length {focal} px must be positive; pass --focal in pixels")
    return Intrinsics((float(fx), float(fy)), (width / 2.0, height / 2.0), "given")


def exif_intrinsics(path: str | Path, width: int, height: int) -> Intrinsics | None:
    """Intrinsics from the photo's 35 mm-equivalent focal length (EXIF), or None when it has none.

    The 35 mm equivalent scales the full-frame diagonal (43.3 mm) to the image diagonal.
    """
    try:
        with open_header(path) as image:
            exif = image.getexif()
            f35 = float(exif.get(EXIF_FOCAL_35MM) or exif.get_ifd(EXIF_IFD).get(EXIF_FOCAL_35MM) or 0)
    except (OSError, ValueError, SyntaxError, TypeError, ZeroDivisionError):
        return None
    if not (math.isfinite(f35) and f35 > 0):  # absent, or a malformed tag
        return None
    focal = f35 * math.hypot(width, height) / FULL_FRAME_DIAGONAL_MM
    return Intrinsics((focal, focal), (width / 2.0, height / 2.0), f"exif: {f35:g} mm (35 mm equivalent)")
