"""Image files: grey, palette, RGBA, 16-bit and CMYK become the expected 8-bit RGB; truncated JPEG/PNG and lying
headers are refused; images over the pixel limit are decoded at reduced scale (JPEG) or refused, in bounded
memory (measured on real 20,000 x 20,000 files)."""

import io
import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from mhp.errors import MhpError
from mhp.infer.camera import exif_intrinsics
from mhp.util.image_file import MAX_PIXELS, jpeg_is_complete, read_image

RNG = np.random.default_rng(3)
RGB = RNG.integers(0, 256, (48, 64, 3), dtype=np.uint8)
EXIF_ORIENTATION = 0x0112


def segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def flat_jpeg(width: int, height: int) -> bytes:
    """A baseline grey JPEG of flat mid-grey blocks, ~2 bits per 8x8 block: a 20,000 px square is 1.5 MB.

    One-symbol Huffman tables give every block the 1-bit codes "DC difference 0" and "end of block".
    """
    blocks = -(-width // 8) * -(-height // 8)
    one_code = b"\x01" + b"\x00" * 15 + b"\x00"  # one code of length 1, for symbol 0
    header = (
        segment(0xDB, b"\x00" + b"\x01" * 64)
        + segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00")
        + segment(0xC4, b"\x00" + one_code)
        + segment(0xC4, b"\x10" + one_code)
        + segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    )
    bits = 2 * blocks
    data = b"\x00" * (bits // 8) + (bytes([0xFF >> (bits % 8)]) if bits % 8 else b"")
    return b"\xff\xd8" + header + data + b"\xff\xd9"


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def black_png(width: int, height: int, rows: int | None = None) -> bytes:
    """A grey 8-bit PNG, black, compressed row by row (never held whole); ``rows`` < height: a lying header."""
    deflate, row = zlib.compressobj(1), b"\x00" * (width + 1)
    idat = b"".join(deflate.compress(row) for _ in range(height if rows is None else rows)) + deflate.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def test_the_hand_made_files_decode_as_intended(tmp_path):
    (tmp_path / "flat.jpg").write_bytes(flat_jpeg(61, 45))
    (tmp_path / "black.png").write_bytes(black_png(61, 45))
    assert (read_image(tmp_path / "flat.jpg").rgb == 128).all()
    assert read_image(tmp_path / "flat.jpg").rgb.shape == (45, 61, 3)
    assert (read_image(tmp_path / "black.png").rgb == 0).all()


def save_pil(mode: str, suffix: str = ".png", **options):
    def write(path: Path) -> np.ndarray:
        image = Image.fromarray(RGB).convert(mode)
        image.save(path.with_suffix(suffix), **options)
        return np.asarray(image.convert("RGB"))

    return write


def save_16_bit(path: Path) -> np.ndarray:
    cv2.imwrite(str(path), (RGB[..., ::-1].astype(np.uint16) * 257))  # 16-bit of the same picture
    return RGB


def save_rgba(path: Path) -> np.ndarray:
    alpha = np.where(np.arange(64) < 32, 0, 255).astype(np.uint8)[None, :, None].repeat(48, 0)
    Image.fromarray(np.concatenate([RGB, alpha], axis=2), "RGBA").save(path)
    return RGB  # alpha is dropped: transparent pixels show their stored colour


@pytest.mark.parametrize(
    ("name", "write", "tolerance"),
    [
        ("grey", save_pil("L"), 0),
        ("palette", save_pil("P"), 0),
        ("rgba", save_rgba, 0),
        ("16-bit", save_16_bit, 0),
        ("cmyk-jpeg", save_pil("CMYK", ".jpg", quality=100), 2),
        ("bmp", save_pil("RGB", ".bmp"), 0),
    ],
)
def test_every_pixel_format_becomes_8_bit_rgb(tmp_path, name, write, tolerance):
    expected = write(tmp_path / "image.png")
    path = next(tmp_path.iterdir())
    decoded = read_image(path)
    assert decoded.rgb.dtype == np.uint8
    assert decoded.rgb.shape == (48, 64, 3)
    assert (decoded.width, decoded.height, decoded.scale) == (64, 48, 1)
    if name == "cmyk-jpeg":  # JPEG-lossy: compare with Pillow's own decode of the same file
        expected = np.asarray(Image.open(path).convert("RGB"))
    assert np.abs(decoded.rgb.astype(int) - expected).max() <= tolerance, name


def test_a_16_bit_image_scales_rather_than_clips(tmp_path):
    ramp = (np.arange(64 * 48, dtype=np.uint32) * 65535 // (64 * 48 - 1)).astype(np.uint16).reshape(48, 64)
    cv2.imwrite(str(tmp_path / "ramp.png"), ramp)
    decoded = read_image(tmp_path / "ramp.png").rgb[..., 0]
    np.testing.assert_array_equal(decoded, ramp >> 8)
    assert (decoded.min(), decoded.max()) == (0, 255)


def jpeg_bytes(progressive: bool = False, **options) -> bytes:
    stream = io.BytesIO()
    Image.fromarray(RGB).save(stream, "JPEG", progressive=progressive, quality=90, **options)
    return stream.getvalue()


@pytest.mark.parametrize("progressive", [False, True])
def test_the_jpeg_marker_walk_finds_the_end_of_image(progressive):
    data = jpeg_bytes(progressive)
    assert jpeg_is_complete(data)
    assert jpeg_is_complete(data + b"ftypmp42 a motion photo's video after the image" * 100)
    for cut in (len(data) - 2, len(data) - 1, len(data) // 2, 300, 3):
        assert not jpeg_is_complete(data[:cut]), cut


def test_truncated_and_corrupt_files_are_refused(tmp_path):
    jpeg = jpeg_bytes()
    (tmp_path / "cut.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    with pytest.raises(MhpError) as caught:
        read_image(tmp_path / "cut.jpg")
    assert str(caught.value) == (
        f"{tmp_path / 'cut.jpg'} is a truncated JPEG (it ends before its end-of-image marker); copy it again"
    )
    (tmp_path / "motion.jpg").write_bytes(jpeg + b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    (tmp_path / "plain.jpg").write_bytes(jpeg)
    np.testing.assert_array_equal(read_image(tmp_path / "motion.jpg").rgb, read_image(tmp_path / "plain.jpg").rgb)
    Image.fromarray(RGB).save(tmp_path / "image.png")
    png = (tmp_path / "image.png").read_bytes()
    for cut in (len(png) // 2, len(png) - 1):
        (tmp_path / "cut.png").write_bytes(png[:cut])
        with pytest.raises(MhpError, match=r"cut\.png is a truncated PNG \(it ends before its end-of-image marker\)"):
            read_image(tmp_path / "cut.png")
    for name, content in (("empty.jpg", b""), ("text.png", b"hello"), ("head.jpg", jpeg[:2])):
        (tmp_path / name).write_bytes(content)
        with pytest.raises(MhpError, match="not an image, or a corrupt one"):
            read_image(tmp_path / name)


def test_over_the_limit_a_jpeg_is_decoded_at_reduced_scale_and_others_are_refused(tmp_path):
    (tmp_path / "big.jpg").write_bytes(jpeg_bytes())  # 64 x 48 = 3072 pixels
    for limit, scale in ((3072, 1), (3071, 2), (768, 2), (767, 4), (48, 8)):
        decoded = read_image(tmp_path / "big.jpg", max_pixels=limit)
        assert decoded.scale == scale
        assert decoded.rgb.shape == (48 // scale, 64 // scale, 3)
        assert (decoded.width, decoded.height) == (64, 48)
    with pytest.raises(MhpError, match=r"is 64x48 \(0 MP\), over the 0 MP limit even at 1/8 scale; downscale it"):
        read_image(tmp_path / "big.jpg", max_pixels=47)
    Image.fromarray(RGB).save(tmp_path / "phone.jpg", "MPO", save_all=True, append_images=[Image.new("L", (8, 6))])
    assert Image.open(tmp_path / "phone.jpg").format == "MPO"  # what Pillow calls many phone photos
    assert read_image(tmp_path / "phone.jpg", max_pixels=768).scale == 2
    (tmp_path / "progressive.jpg").write_bytes(jpeg_bytes(progressive=True))
    assert read_image(tmp_path / "progressive.jpg", max_pixels=3072).scale == 1
    with pytest.raises(MhpError, match=r"and progressive .*; downscale it or re-save it"):
        read_image(tmp_path / "progressive.jpg", max_pixels=3071)
    Image.fromarray(RGB).save(tmp_path / "big.png")
    with pytest.raises(MhpError) as caught:
        read_image(tmp_path / "big.png", max_pixels=3071)
    assert str(caught.value) == (
        f"{tmp_path / 'big.png'} is 64x48 (0 MP), over the 0 MP limit; downscale it, or convert it to JPEG"
        " (decoded at reduced scale)"
    )


def test_a_reduced_decode_keeps_the_upright_original_size(tmp_path):
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6  # stored landscape, shown rotated 90 degrees clockwise
    Image.fromarray(RGB).save(tmp_path / "phone.jpg", exif=exif)
    whole, reduced = read_image(tmp_path / "phone.jpg"), read_image(tmp_path / "phone.jpg", max_pixels=1000)
    assert (whole.width, whole.height, whole.rgb.shape) == (48, 64, (64, 48, 3))
    assert (reduced.width, reduced.height, reduced.scale, reduced.rgb.shape) == (48, 64, 2, (32, 24, 3))


def test_a_lying_header_is_refused_before_anything_is_allocated(tmp_path):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(black_png(60_000, 60_000, rows=2))  # 3.6 GP claimed in a few hundred bytes
    assert bomb.stat().st_size < 1000
    with pytest.raises(MhpError, match=r"is 60000x60000 \(3600 MP\), over the 67 MP limit; downscale it"):
        read_image(bomb)
    assert exif_intrinsics(bomb, 60_000, 60_000) is None  # Pillow's decompression-bomb refusal does not escape


CHILD = """
import json, resource, sys, time
from pathlib import Path
from mhp.errors import MhpError
from mhp.util.image_file import read_image
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
try:
    image = read_image(Path(sys.argv[1]))
    outcome = {"scale": image.scale, "shape": list(image.rgb.shape), "size": [image.width, image.height],
               "grey": sorted(set(image.rgb[::500, ::500].ravel().tolist()))}
except MhpError as exc:
    outcome = {"error": str(exc)}
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({**outcome, "peak_mb": (peak - baseline) / 1024, "seconds": time.perf_counter() - start}))
"""
PEAK_BOUND_MB = 600


@pytest.fixture(scope="session")
def huge_files(tmp_path_factory):
    """Real 20,000 x 20,000 JPEG and PNG files (1.5 MB and 0.4 MB; written without holding the pixels)."""
    folder = tmp_path_factory.mktemp("huge")
    (folder / "huge.jpg").write_bytes(flat_jpeg(20_000, 20_000))
    (folder / "huge.png").write_bytes(black_png(20_000, 20_000))
    return folder


def decode_in_child(path: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    print(f"{path.name}: {result}")  # the measured figures, shown with pytest -s
    return result


@pytest.mark.slow
def test_a_20000_px_jpeg_is_decoded_at_quarter_scale_in_bounded_memory(huge_files):
    result = decode_in_child(huge_files / "huge.jpg")
    assert MAX_PIXELS == 8192 * 8192
    assert result["scale"] == 4  # 1/2 would be 10,000^2 = 100 MP, over the 67 MP limit
    assert result["shape"] == [5000, 5000, 3]
    assert result["size"] == [20_000, 20_000]
    assert result["grey"] == [128]
    assert result["peak_mb"] < PEAK_BOUND_MB  # the whole image would be 1,200 MB as RGB


@pytest.mark.slow
def test_a_20000_px_png_is_refused_without_decoding(huge_files):
    result = decode_in_child(huge_files / "huge.png")
    assert result["error"] == (
        f"{huge_files / 'huge.png'} is 20000x20000 (400 MP), over the 67 MP limit; downscale it, or convert it to"
        " JPEG (decoded at reduced scale)"
    )
    assert result["peak_mb"] < 50
