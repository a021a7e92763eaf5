"""Finding inputs, reading videos, writing overlays atomically; every unreadable input is one clear error (images:
:mod:`mhp.util.image_file`)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from mhp.errors import MhpError
from mhp.util import image_file
from mhp.util.fileio import atomic_path, current_umask

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v"}
DEFAULT_FPS = 30.0  # for containers that do not state their frame rate
# Frames a container's stated count may exceed the decodable ones by before the video counts as truncated: a
# count estimated from the duration (Matroska, WebM) can be one over.
FRAME_COUNT_SLACK = 1


def input_kind(path: Path) -> str:
    """``image``, ``video`` or ``folder``; an error for anything else."""
    if not path.exists():
        raise MhpError(f"{path} does not exist; pass an image, a folder of images or a video")
    if path.is_dir():
        return "folder"
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return "image"
    if suffix in VIDEO_SUFFIXES:
        return "video"
    known = ", ".join(sorted(IMAGE_SUFFIXES | VIDEO_SUFFIXES))
    raise MhpError(f"{path} is neither an image nor a video this reads ({known})")


def folder_images(folder: Path) -> list[Path]:
    images = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise MhpError(f"{folder} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return images


def write_image(path: Path, rgb: np.ndarray) -> Path:
    """Encode ``rgb`` in the format of ``path``'s suffix and write it atomically."""
    ok, encoded = cv2.imencode(path.suffix, np.ascontiguousarray(rgb[..., ::-1]))
    if not ok:
        raise MhpError(f"cannot encode {path} as {path.suffix}; use .jpg or .png")
    with atomic_path(path) as tmp:
        tmp.write_bytes(encoded.tobytes())
    return path


class VideoReader:
    """Frames of a video as RGB arrays with their times in seconds; the frame rate is the container's."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.capture = cv2.VideoCapture(str(path))
        width, height = (int(self.capture.get(p)) for p in (cv2.CAP_PROP_FRAME_WIDTH, cv2.CAP_PROP_FRAME_HEIGHT))
        if width * height > image_file.MAX_PIXELS:
            self.capture.release()
            limit = f"{image_file.MAX_PIXELS / 1e6:.0f} MP"
            raise MhpError(f"{path} has {width}x{height} frames, over the {limit} limit; downscale it")
        ok, first = self.capture.read() if self.capture.isOpened() else (False, None)
        if not ok:
            self.capture.release()
            raise MhpError(f"cannot read {path}: not a video OpenCV can decode, or it has no frames")
        self.first = first
        fps = self.capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and np.isfinite(fps) and fps > 0 else DEFAULT_FPS
        self.frame_count = int(self.capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
        self.height, self.width = first.shape[:2]

    def frames(self, limit: int | None = None) -> Iterator[tuple[int, float, np.ndarray]]:
        index, frame = 0, self.first
        try:
            while frame is not None and (limit is None or index < limit):
                yield index, index / self.fps, np.ascontiguousarray(frame[..., ::-1])
                ok, frame = self.capture.read()
                frame, index = (frame if ok else None), index + 1
            if frame is None and self.frame_count and index + FRAME_COUNT_SLACK < self.frame_count:
                raise MhpError(
                    f"{self.path} ends after {index} of the {self.frame_count} frames its header declares:"
                    " a truncated video; copy it again"
                )
        finally:
            self.capture.release()


class VideoWriter:
    """An MP4 written to a temporary file beside ``path`` and renamed over it only when closed normally."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int]) -> None:
        fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp.mp4", dir=path.parent)  # unique per run
        os.close(fd)
        self.path, self.tmp = path, Path(name)
        self.writer = cv2.VideoWriter(str(self.tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
        if not self.writer.isOpened():
            raise MhpError(f"cannot write the video {path}; check that the folder is writable")

    def write(self, rgb: np.ndarray) -> None:
        self.writer.write(np.ascontiguousarray(rgb[..., ::-1]))

    def close(self, keep: bool = True) -> None:
        self.writer.release()
        if keep:
            os.chmod(self.tmp, 0o666 & ~current_umask())  # mkstemp made it 0600; a video gets a normal file's mode
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)
