"""Calibration crops for full INT8: the checkpoint's training data (a dataset's records or synthetic scenes) or a
user folder, cut with exactly the evaluation preprocessing, as uint8 RGB ``(N, S, S, 3)``. Which data an export
uses is decided in :mod:`mhp.export.sources`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mhp.data.annotations import Annotations
from mhp.data.dataset import CropConfig, PoseDataset
from mhp.data.synthetic import SyntheticHumans
from mhp.data.transforms import NO_AUGMENTATION, sample_crop_affine, warp_patch
from mhp.errors import MhpError
from mhp.geometry import is_box, process_bbox
from mhp.util.fileio import is_file, read_json_file
from mhp.util.image_file import read_image
from mhp.util.optional import installed_versions

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
BOXES_FILE = "boxes.json"
MIN_SAMPLES = 200
# The libraries whose arithmetic makes the pixels: numpy draws the scenes, OpenCV rasterises and resamples them.
# Another release of either may move a few pixels (OpenCV 4.14 -> 5.1 changes 6 % of them, mostly by 1), which
# changes the sha256 but not what INT8 ranges depend on; the fingerprint below measures that.
PIXEL_LIBRARIES = ("numpy", "opencv-python-headless")
FINGERPRINT_GRID = 4


def blas_rounding() -> str:
    """A short hash of small float64 products taken through NumPy's BLAS, as the synthetic scenes' geometry is.

    The BLAS picks its kernels by CPU (OpenBLAS: SkylakeX, Haswell, Zen, ...), and two kernels may round a dot
    product of three numbers differently in the last bit, which moves a few rendered pixels: the same libraries on
    another CPU can give other pixels. Equal hashes mean these products, and so the scenes, round alike."""
    rng = np.random.default_rng(0)
    left, right, matrix = rng.standard_normal((64, 3)), rng.standard_normal((64, 3)), rng.standard_normal((3, 3))
    products = [
        np.asarray([a @ b for a, b in zip(left, right, strict=True)]),  # dot products, as the renderer's shading
        np.concatenate([a @ matrix for a in left]),  # vector times matrix, as the skeleton's joint offsets
        (left @ matrix.T).ravel(),  # matrix products, as the camera's rotation of every joint
        (matrix @ matrix).ravel(),
    ]
    return hashlib.sha256(np.concatenate(products).tobytes()).hexdigest()[:16]


@dataclass(frozen=True)
class CalibrationSet:
    pixels: np.ndarray  # uint8 (N, S, S, 3) RGB
    id: str
    source: str
    description: str = ""  # what the crops are and why they were chosen, in words

    @property
    def sha256(self) -> str:
        return hashlib.sha256(np.ascontiguousarray(self.pixels).tobytes()).hexdigest()

    def record(self) -> dict[str, Any]:
        """The set's identity for a manifest, with the library versions that produced these exact pixels."""
        return {
            "id": self.id,
            "source": self.source,
            "description": self.description,
            "samples": len(self.pixels),
            "sha256": self.sha256,
            "made_with": installed_versions(PIXEL_LIBRARIES),
            "blas_rounding": blas_rounding(),
        }

    def fingerprint(self, grid: int = FINGERPRINT_GRID) -> np.ndarray:
        """The mean of each channel over each cell of a ``grid x grid`` split of every crop, float32
        ``(N, grid, grid, 3)``: the brightness layout INT8 ranges depend on, without the exact pixels."""
        count, size = len(self.pixels), self.pixels.shape[1]
        if size % grid:
            raise MhpError(f"crop size {size} does not split into a {grid} x {grid} grid")
        cells = self.pixels.reshape(count, grid, size // grid, grid, size // grid, 3)
        return cells.mean(axis=(2, 4), dtype=np.float64).astype(np.float32)


def synthetic_scenes(model, config: dict[str, Any], count: int, *, seed: int | None = None) -> SyntheticHumans:
    """Synthetic scenes like the checkpoint's training data (its seed and render size unless told otherwise)."""
    size = int(config.get("synthetic_image_size", 256))
    seed = int(config.get("seed", 0)) if seed is None else seed
    return SyntheticHumans(count, joint_set=model.joint_set, seed=seed, image_size=(size, size))


def check_calibration_count(count: int) -> None:
    """Refuse a ``--calib-samples`` too small for stable INT8 ranges."""
    if count < MIN_SAMPLES:
        raise MhpError(f"--calib-samples {count} is too few for stable INT8 ranges; use at least {MIN_SAMPLES}")


def synthetic_calibration(model, config: dict[str, Any], count: int = 256) -> CalibrationSet:
    """The first ``count`` training scenes of the checkpoint, as evaluation crops."""
    check_calibration_count(count)
    source = synthetic_scenes(model, config, count)
    dataset = PoseDataset(source, model.joint_set, CropConfig.for_model(model), train=False)
    pixels = np.stack([dataset.eval_pixels(i)[0] for i in range(count)])
    size = source.image_size[0]
    return CalibrationSet(
        pixels, f"synthetic-seed{source.seed}-n{count}-render{size}-crop{model.input_size}", "synthetic"
    )


def table_calibration(model, table: Annotations, indices: np.ndarray, *, source: str) -> CalibrationSet:
    """The evaluation crops of records ``indices`` of a dataset table (ground-truth boxes, as evaluation cuts)."""
    if len(indices) < MIN_SAMPLES:
        raise MhpError(
            f"{source} gives {len(indices)} calibration crops; INT8 calibration needs at least {MIN_SAMPLES}: "
            "pass --calib-data with more data, or --calib-data synthetic"
        )
    dataset = PoseDataset(table, model.joint_set, CropConfig.for_model(model), train=False)
    pixels = np.stack([readable_crop(dataset, int(i)) for i in indices])
    name = f"{table.name}-{table.split}-n{len(indices)}-crop{model.input_size}"
    return CalibrationSet(np.ascontiguousarray(pixels), name, source)


def readable_crop(dataset: PoseDataset, i: int) -> np.ndarray:
    crop = dataset.eval_pixels(i)
    if crop is None:
        path = dataset.source.record(i).image_path
        raise MhpError(f"calibration image {path} cannot be read; check the dataset with mhp-data check")
    return crop[0]


def folder_calibration(folder: str | Path, input_size: int, *, limit: int = 1000) -> CalibrationSet:
    """Images of ``folder`` cut at the person boxes of ``folder/boxes.json`` (``{"name.jpg": [x, y, w, h]}``);
    without the file every whole image is one box. Boxes get the evaluation treatment (reference §6.1/§6.3)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MhpError(f"--calib-data {folder} is not a folder; pass a folder of images (and optional {BOXES_FILE})")
    boxes = read_boxes(folder / BOXES_FILE)
    names = (
        sorted(boxes)
        if boxes is not None
        else sorted(p.name for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    )
    crops = []
    for name in names[:limit]:
        if not is_file(folder / name):
            raise MhpError(f"calibration image {folder / name} is missing; remove it from {BOXES_FILE} or add it")
        image = read_image(folder / name)  # bounded memory: huge JPEGs are decoded at reduced scale
        width, height = image.width, image.height
        box = boxes[name] if boxes is not None else [0, 0, width, height]
        bbox = process_bbox(box, width, height)
        if bbox is None:
            raise MhpError(f"{folder / BOXES_FILE}: the box of {name} lies outside the image")
        affine = sample_crop_affine(bbox, width, NO_AUGMENTATION, input_size)
        crops.append(warp_patch(image.rgb, affine, input_size, reduce=image.scale))
    if len(crops) < MIN_SAMPLES:
        raise MhpError(f"--calib-data {folder} gives {len(crops)} crops; INT8 calibration needs at least {MIN_SAMPLES}")
    pixels = np.ascontiguousarray(np.stack(crops))
    return CalibrationSet(pixels, f"folder-{folder.name}-n{len(crops)}-crop{input_size}", str(folder))


def read_boxes(path: Path) -> dict[str, list[float]] | None:
    if not path.exists():
        return None
    boxes = read_json_file(path, fix='expected {"image.jpg": [x, y, w, h]}')
    if not (isinstance(boxes, dict) and all(is_box(b) for b in boxes.values())):
        raise MhpError(f"{path} must map image names to [x, y, w, h] boxes in pixels")
    return boxes
