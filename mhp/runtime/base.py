"""The Runner interface: 0-255 RGB crops in, ``(N, J, 3)`` voxel coordinates out, whatever the format."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from mhp.errors import MhpError


class RuntimeUnavailableError(MhpError):
    """This artifact cannot run on this machine (e.g. CoreML prediction needs macOS)."""


class Runner(ABC):
    """``runner(pixels)`` -> ``(N, J, 3)`` float32 voxel coordinates; ``runner.raw(pixels)`` -> every output.

    ``pixels`` are ``(N, 3, S, S)`` RGB values in 0-255 (any float or integer dtype). Runners absorb layout,
    dtype, quantisation and batching, so parity, evaluation and benchmarks use only this interface.
    """

    name: str
    input_size: int

    def __call__(self, pixels: np.ndarray) -> np.ndarray:
        return self.pose(pixels)["coords"]

    def raw(self, pixels: np.ndarray) -> dict[str, np.ndarray]:
        """``coords`` ``(N, J, 3)`` and ``confidence`` ``(N, J)``, plus ``heatmaps`` where the artifact emits them."""
        return self.batched(pixels, self.run_one)

    def pose(self, pixels: np.ndarray) -> dict[str, np.ndarray]:
        """Only ``coords`` and ``confidence``: what inference, parity and benchmarks need (runners that also
        emit heatmaps skip copying them)."""
        outputs = self.raw(pixels)
        return {"coords": outputs["coords"], "confidence": outputs["confidence"]}

    def batched(self, pixels: np.ndarray, run) -> dict[str, np.ndarray]:
        pixels = check_pixels(pixels, self.input_size)
        outputs = [run(pixels[i : i + 1]) for i in range(len(pixels))]
        return {k: np.concatenate([o[k] for o in outputs]) for k in outputs[0]}

    @abstractmethod
    def run_one(self, pixels: np.ndarray) -> dict[str, np.ndarray]:
        """One ``(1, 3, S, S)`` float32 crop -> the outputs, each with a leading batch axis of 1."""


def check_pixels(pixels: np.ndarray, size: int) -> np.ndarray:
    """``(N, 3, size, size)`` float32 in 0-255, or a one-line error naming what is wrong."""
    pixels = np.asarray(pixels)
    if pixels.ndim != 4 or pixels.shape[1:] != (3, size, size) or len(pixels) == 0:
        raise MhpError(f"expected RGB crops (N, 3, {size}, {size}), got {pixels.shape}")
    pixels = pixels.astype(np.float32, copy=False)
    if not (pixels.min() >= 0 and pixels.max() <= 255):  # NaN fails both comparisons, infinity one
        raise MhpError("crops must hold finite 0-255 RGB values (normalisation happens inside the model)")
    return pixels


def check_tensor(
    artifact: str, what: str, promised: list, actual: list, promised_dtype: str, actual_dtype: str
) -> None:
    """Refuse an artifact whose tensor differs from what its manifest promises (a manifest of another model)."""
    actual = [a if a is None or isinstance(a, str) else int(a) for a in actual]
    same_shape = len(promised) == len(actual) and all(
        isinstance(p, str) or isinstance(a, str) or a in (None, -1) or int(p) == int(a)
        for p, a in zip(promised, actual, strict=True)
    )
    if not same_shape or promised_dtype != actual_dtype:
        raise MhpError(
            f"{artifact}: its manifest promises {what} {list(promised)} {promised_dtype}, the model has "
            f"{actual} {actual_dtype}; the manifest belongs to another artifact: re-export with mhp-export"
        )


def missing_tensor(artifact: str, what: str, name: str, available) -> MhpError:
    return MhpError(
        f"{artifact}: its manifest promises the {what} {name!r}, the model has {', '.join(available)}; "
        "re-export with mhp-export"
    )
