"""The one image reader. :func:`decode` is the only place an image file is decoded (BGR, whole or at 1/2, 1/4,
1/8 by JPEG DCT scaling, EXIF orientation applied or not): dataset samples use it directly, their sizes known from
the annotations. :func:`read_image` reads a user's file in bounded memory: the header first (size, format; nothing
decoded), then a whole or reduced decode, refusing what cannot be decoded within :data:`MAX_PIXELS` and truncated
files."""

from __future__ import annotations

import math
import mmap
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from mhp.errors import MhpError

if TYPE_CHECKING:
    from PIL.Image import Image

# The most pixels decoded at once: 8192 x 8192 (67 MP, 192 MiB as RGB uint8). Phone photos (12-50 MP) decode
# whole; the model sees 256 px crops, so a larger decode adds memory, not accuracy. Every JPEG fits at 1/8 scale
# (JPEG sides are at most 65535 px).
MAX_PIXELS = 8192 * 8192
REDUCED_FLAGS = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}
# A marker that ends entropy-coded JPEG data: 0xFF followed by anything but a stuffed 0x00, RST0-7 or fill 0xFF.
JPEG_SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
JPEG_EOI, JPEG_SOS = 0xD9, 0xDA
JPEG_FORMATS = {"JPEG", "MPO"}  # MPO: a JPEG followed by more (phones' depth maps, stereo pairs)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class ImageHeader:
    width: int
    height: int
    format: str  # Pillow's name: JPEG, PNG, WEBP, TIFF, BMP, ...
    progressive: bool  # a multi-scan JPEG: libjpeg buffers the whole image's coefficients, so no bounded reduction


@dataclass(frozen=True)
class DecodedImage:
    """An image's RGB uint8 pixels, decoded whole or at 1/``scale`` (JPEG DCT scaling), and its original size.

    A decoded pixel i covers original pixels scale*i ... scale*i + scale - 1: its centre is at
    scale*i + (scale - 1)/2 in original pixels.
    """

    rgb: np.ndarray  # (ceil(height / scale), ceil(width / scale), 3)
    width: int
    height: int
    scale: int = 1

    @classmethod
    def whole(cls, rgb: np.ndarray) -> DecodedImage:
        return cls(rgb, rgb.shape[1], rgb.shape[0])

    def to_decoded_points(self, points: np.ndarray) -> np.ndarray:
        """``(..., 2)`` original pixels to decoded pixels."""
        return (np.asarray(points, np.float64) - (self.scale - 1) / 2.0) / self.scale

    def to_original_box(self, box) -> np.ndarray:
        """A decoded-pixel box ``[x, y, w, h]`` (e.g. a detector's) in original pixels."""
        x, y, w, h = np.asarray(box, np.float64)
        offset = (self.scale - 1) / 2.0
        return np.array([x * self.scale + offset, y * self.scale + offset, w * self.scale, h * self.scale])


def open_header(path: str | Path) -> Image:
    """``PIL.Image.open``: the header only, nothing decoded, without Pillow's decompression-bomb refusal (the
    callers apply :data:`MAX_PIXELS`). Close it (``with``)."""
    from PIL import Image

    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
    try:
        return Image.open(path)
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def read_header(path: Path) -> ImageHeader:
    try:
        with open_header(path) as image:
            progressive = bool(image.info.get("progressive") or image.info.get("progression"))
            return ImageHeader(image.width, image.height, str(image.format), progressive)
    except (OSError, ValueError, SyntaxError, EOFError):
        raise MhpError(f"cannot read {path}: not an image, or a corrupt one") from None


def decode_scale(path: Path, header: ImageHeader, max_pixels: int) -> int:
    """1 when the image fits ``max_pixels``; else the smallest JPEG reduction (2, 4, 8) that fits; else an error."""
    width, height = header.width, header.height
    reducible = header.format in JPEG_FORMATS and not header.progressive
    for scale in REDUCED_FLAGS if reducible else (1,):
        if math.ceil(width / scale) * math.ceil(height / scale) <= max_pixels:
            return scale
    size = f"{path} is {width}x{height} ({width * height / 1e6:.0f} MP), over the {max_pixels / 1e6:.0f} MP limit"
    if reducible:
        raise MhpError(f"{size} even at 1/8 scale; downscale it")
    if header.format in JPEG_FORMATS:
        raise MhpError(f"{size} and progressive (it cannot be decoded at reduced scale); downscale it or re-save it")
    raise MhpError(f"{size}; downscale it, or convert it to JPEG (decoded at reduced scale)")


def jpeg_is_complete(data: bytes | mmap.mmap) -> bool:
    """Whether the segments and entropy-coded scans after SOI run through to an end-of-image marker (bytes
    after it, such as a motion photo's video, are allowed)."""
    pos = 2
    while True:
        pos = data.find(b"\xff", pos)  # libjpeg skips stray bytes before a marker too
        while 0 <= pos < len(data) - 1 and data[pos + 1] == 0xFF:  # fill bytes
            pos += 1
        if pos < 0 or pos + 2 > len(data):
            return False
        marker = data[pos + 1]
        if marker == JPEG_EOI:
            return True
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            pos += 2
            continue
        if pos + 4 > len(data):
            return False
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        if pos > len(data):
            return False
        if marker == JPEG_SOS:
            scan_end = JPEG_SCAN_END.search(data, pos)
            if scan_end is None:
                return False
            pos = scan_end.start()


def png_is_complete(path: Path) -> bool:
    """Whether the chunks after the signature run through to IEND (read by their lengths, not decoded)."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        pos = len(PNG_SIGNATURE)
        while pos + 8 <= size:
            f.seek(pos)
            length, kind = int.from_bytes(f.read(4), "big"), f.read(4)
            pos += 12 + length
            if kind == b"IEND":
                return pos <= size
    return False


def is_complete(path: Path, header: ImageHeader) -> bool:
    if header.format in JPEG_FORMATS:
        with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return jpeg_is_complete(data)
    return png_is_complete(path) if header.format == "PNG" else True


def decode(path: str | Path, scale: int = 1, *, upright: bool = True) -> np.ndarray | None:
    """The image as BGR uint8 at 1/``scale`` (1, 2, 4 or 8), turned by its EXIF orientation when ``upright`` (dataset
    annotations refer to the stored pixels: they pass False); None when it cannot be decoded."""
    flags = REDUCED_FLAGS[scale] | (0 if upright else cv2.IMREAD_IGNORE_ORIENTATION)
    try:
        return cv2.imread(str(path), flags)
    except cv2.error:
        return None


def read_image(path: Path, max_pixels: int | None = None) -> DecodedImage:
    """The image as RGB uint8, at reduced scale when it is a JPEG over ``max_pixels`` (default
    :data:`MAX_PIXELS`); grey, palette, RGBA (alpha dropped) and 16-bit (scaled to 8-bit) images become RGB."""
    header = read_header(path)
    scale = decode_scale(path, header, max_pixels or MAX_PIXELS)
    if not is_complete(path, header):
        kind = "JPEG" if header.format in JPEG_FORMATS else header.format
        raise MhpError(f"{path} is a truncated {kind} (it ends before its end-of-image marker); copy it again")
    bgr = decode(path, scale)
    if bgr is None:
        raise MhpError(f"cannot read {path}: not an image, or a corrupt one")
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB, dst=bgr)
    if scale == 1:
        return DecodedImage.whole(rgb)
    width, height = header.width, header.height
    if rgb.shape[:2] != (math.ceil(height / scale), math.ceil(width / scale)):  # turned upright by EXIF orientation
        width, height = height, width
    return DecodedImage(rgb, width, height, scale)
