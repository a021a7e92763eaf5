"""MuPoTS-3D (reference §9.4): the multi-person 3D test set, 17 joints (the first 17 of MuCo), 20 sequences.

```
ROOT/data/MuPoTS-3D.json                  images {id, file_name, width, height, intrinsic [fx, fy, cx, cy]};
                                          annotations {image_id, is_valid, keypoints_cam 17x3, keypoints_img 17x2,
                                          keypoints_vis, bbox}
ROOT/data/MultiPersonTestSet/TS{n}/img_{%06d}.jpg
ROOT/bbox_root/bbox_root_mupots_output.json   RootNet {image_id, bbox, root_cam, score} (optional)
```
"""

from __future__ import annotations

import re
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
    number,
    read_json,
    require_dir,
)
from mhp.data.muco import add_person
from mhp.skeleton import MUPOTS

ANNOTATION_FILE = Path("data") / "MuPoTS-3D.json"
IMAGE_DIR = Path("data") / "MultiPersonTestSet"
BBOX_ROOT_FILE = Path("bbox_root") / "bbox_root_mupots_output.json"
SEQUENCE = re.compile(r"TS([0-9]{1,6})")


def _sequence(name: str) -> tuple[str, int]:
    """("TS3", 3) for "TS3/img_000012.jpg"; the sequence number is 0 for a folder not named TS<n>."""
    folder = Path(name).parts[0] if Path(name).parts else ""
    match = SEQUENCE.fullmatch(folder)
    return folder, int(match.group(1)) if match else 0


def _image_meta(img: dict, where: str) -> tuple[str, int, int, np.ndarray, np.ndarray]:
    """file name, width, height, focal and principal point of an ``images`` entry."""
    intrinsic = array(field(img, "intrinsic", where), (4,), f"{where} intrinsic")
    name = file_name(field(img, "file_name", where), f"{where} file_name")
    return name, *image_size(img, where), intrinsic[:2], intrinsic[2:]


def read_mupots(root: str | Path, split: str = "test", bbox_root: str | Path | None = None) -> Annotations:
    """Ground-truth people (``is_valid`` only), or one sample per RootNet detection when ``bbox_root`` is given
    (then without ground truth: matching predictions to people is the evaluation's job)."""
    root = Path(root)
    if split != "test":
        raise DatasetError(f"MuPoTS-3D has only a test split, not {split!r}")
    path = root / ANNOTATION_FILE
    content = read_json(path, "MuPoTS-3D annotation file")
    images = images_by_id(content, path)
    image_dir = require_dir(root / IMAGE_DIR, "MuPoTS-3D image folder")
    j = MUPOTS.num_joints
    if bbox_root is not None:
        detections = read_json(Path(bbox_root), "RootNet bbox_root file for MuPoTS-3D")
        if not isinstance(detections, list):
            raise DatasetError(f"{bbox_root}: expected a list of {{image_id, bbox, root_cam, score}}")
        builder = AnnotationBuilder("mupots", split, image_dir, MUPOTS, has_depth=True, has_gt=False)
        for i, det in enumerate(detections):
            where = f"{bbox_root}: entry {i}"
            image_id, img = image_of(det, images, where)
            name, width, height, focal, principal = _image_meta(img, f"{where} image {image_id}")
            group, sequence = _sequence(name)
            bbox = array(field(det, "bbox", where), (4,), f"{where} bbox")
            builder.add(
                image_path=name,
                image_id=image_id,
                width=width,
                height=height,
                bbox_raw=bbox,
                bbox=bbox,
                joints_img=np.zeros((j, 3)),
                joints_vis=np.zeros(j),
                root_cam=array(field(det, "root_cam", where), (3,), f"{where} root_cam"),
                focal=focal,
                principal=principal,
                group=group,
                subject=sequence,
                score=number(det.get("score", 1.0), f"{where} score"),
            )
        return builder.build()
    builder = AnnotationBuilder("mupots", split, image_dir, MUPOTS, has_depth=True)
    for i, ann in enumerate(entries(content, "annotations", path)):
        where = f"{path}: annotations[{i}]"
        image_id, img = image_of(ann, images, where)
        if integer(field(ann, "is_valid", where), f"{where} is_valid") == 0:
            builder.drop("is_valid 0")
            continue
        name, width, height, focal, principal = _image_meta(img, f"{path}: image {image_id}")
        joints_cam = array(field(ann, "keypoints_cam", where), (j, 3), f"{where} keypoints_cam")
        group, sequence = _sequence(name)
        add_person(
            builder,
            ann,
            joints_cam,
            where=where,
            image_path=name,
            image_id=image_id,
            size=(width, height),
            focal=focal,
            principal=principal,
            group=group,
            subject=sequence,
        )
    return builder.build()
