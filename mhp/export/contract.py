"""The export-time half of the manifest contract: the input record an exporter writes for an image model."""

from __future__ import annotations

from typing import Any

from mhp.geometry import IMAGENET_MEAN, IMAGENET_STD, NORMALIZATIONS


def input_contract(model, *, name: str, shape: list[int], layout: str, dtype: str, **extra: Any) -> dict[str, Any]:
    """The input record: a 0-255 RGB crop; normalisation is inside the artifact (recorded for reference)."""
    return {
        "name": name,
        "shape": shape,
        "layout": layout,
        "dtype": dtype,
        "color": "RGB",
        "pixel_range": [0, 255],
        "crop": "the person box extended to the model's aspect ratio and scaled to the input size (reference §6.3)",
        "normalization": {
            "name": model.normalization,
            "inside_graph": True,
            "formula": "(pixel * pixel_scale - mean) / std",
            "pixel_scale": NORMALIZATIONS[model.normalization],
            "mean": list(IMAGENET_MEAN),
            "std": list(IMAGENET_STD),
        },
        **extra,
    }
