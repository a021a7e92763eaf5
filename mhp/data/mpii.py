"""MPII Human Pose in the 3DMPPE COCO-style layout (reference §9.2): 2D only, train split.

```
ROOT/annotations/train.json     images {id, file_name, width, height}; annotations {image_id, bbox, keypoints 16x3,
                                num_keypoints}
ROOT/<file_name>                file_name usually carries the images/ prefix; ROOT/images/<file_name> also works
```
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mhp.data.annotations import AnnotationBuilder, Annotations
from mhp.data.io import (
    DatasetError,
    array,
    entries,
    field,
    file_name,
    image_of,
    image_size,
    images_by_id,
    integer,
    read_json,
)
from mhp.geometry import process_bbox
from mhp.skeleton import MPII
from mhp.util.fileio import is_file

ANNOTATION_FILE = Path("annotations") / "train.json"


def image_base(root: Path, images: dict[int, dict], what: str) -> Path:
    """The folder the ``file_name`` entries are relative to: ROOT, or ROOT/images when they lack the prefix."""
    if not images:
        return root
    name = file_name(
        field(next(iter(images.values())), "file_name", f"{root / ANNOTATION_FILE}: images[0]"),
        f"{root / ANNOTATION_FILE}: images[0] file_name",
    )
    for base in (root, root / "images"):
        if is_file(base / name):
            return base
    raise DatasetError(f"{what} image {name!r} not found: expected {root / name} or {root / 'images' / name}")


def read_mpii(root: str | Path, split: str = "train") -> Annotations:
    root = Path(root)
    if split != "train":
        raise DatasetError(f"MPII has only a train split (2D keypoints), not {split!r}")
    path = root / ANNOTATION_FILE
    content = read_json(path, "MPII annotation file")
    images = images_by_id(content, path)
    builder = AnnotationBuilder("mpii", split, image_base(root, images, "MPII"), MPII, has_depth=False)
    for i, ann in enumerate(entries(content, "annotations", path)):
        where = f"{path}: annotations[{i}]"
        image_id, img = image_of(ann, images, where)
        if integer(field(ann, "num_keypoints", where), f"{where} num_keypoints") == 0:
            builder.drop("no keypoints")
            continue
        keypoints = array(field(ann, "keypoints", where), (MPII.num_joints, 3), f"{where} keypoints")
        width, height = image_size(img, f"{path}: image {image_id}")
        bbox_raw = array(field(ann, "bbox", where), (4,), f"{where} bbox")
        builder.add(
            image_path=file_name(field(img, "file_name", where), f"{path}: image {image_id} file_name"),
            image_id=image_id,
            width=width,
            height=height,
            bbox_raw=bbox_raw,
            bbox=process_bbox(bbox_raw, width, height),
            joints_img=np.concatenate([keypoints[:, :2], np.zeros((MPII.num_joints, 1))], axis=1),
            joints_vis=keypoints[:, 2] > 0,
        )
    return builder.build()
