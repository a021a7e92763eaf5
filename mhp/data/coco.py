"""MS COCO keypoints (reference §8.3, §9.5): the 2D train set, and the RootNet-box test set used with MuCo models.

```
ROOT/annotations/person_keypoints_train2017.json   ROOT/images/train2017/<file_name>
ROOT/annotations/person_keypoints_val2017.json     ROOT/images/val2017/<file_name>
ROOT/bbox_root/bbox_root_coco_output.json           RootNet {image_id, bbox, root_cam} (test)
```
Thorax and Pelvis are appended as the shoulder and hip midpoints; intrinsics are nominal (f = 1500 px,
principal point at the image centre), as in the original.
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
    number,
    read_json,
    require_dir,
)
from mhp.geometry import process_bbox
from mhp.skeleton import COCO

NOMINAL_FOCAL = 1500.0
SPLITS = {"train": "train2017", "test": "val2017"}
BBOX_ROOT_FILE = Path("bbox_root") / "bbox_root_coco_output.json"


def annotation_file(root: Path, split: str) -> Path:
    if split not in SPLITS:
        raise DatasetError(f"COCO splits are train and test, not {split!r}")
    return Path(root) / "annotations" / f"person_keypoints_{SPLITS[split]}.json"


def _with_midpoints(keypoints: np.ndarray) -> np.ndarray:
    """Append Thorax and Pelvis: midpoints of shoulders / hips, visibility the product of the parents' flags."""
    extra = []
    for a, b in (("L_Shoulder", "R_Shoulder"), ("L_Hip", "R_Hip")):
        pa, pb = keypoints[COCO.index(a)], keypoints[COCO.index(b)]
        extra.append([(pa[0] + pb[0]) / 2, (pa[1] + pb[1]) / 2, pa[2] * pb[2]])
    return np.concatenate([keypoints, np.asarray(extra)], axis=0)


def read_coco(root: str | Path, split: str = "train", bbox_root: str | Path | None = None) -> Annotations:
    """``train``: 2D keypoints (crowds and people without keypoints skipped). ``test``: one sample per RootNet
    detection of ``bbox_root`` (default ROOT/bbox_root/bbox_root_coco_output.json), without ground truth."""
    root = Path(root)
    path = annotation_file(root, split)
    content = read_json(path, f"COCO {split} annotation file")
    images = images_by_id(content, path)
    image_dir = require_dir(root / "images" / SPLITS[split], f"COCO {SPLITS[split]} image folder")
    if split == "train":
        builder = AnnotationBuilder("coco", split, image_dir, COCO, has_depth=False)
        for i, ann in enumerate(entries(content, "annotations", path)):
            where = f"{path}: annotations[{i}]"
            image_id, img = image_of(ann, images, where)
            crowd = integer(ann.get("iscrowd", 0), f"{where} iscrowd")
            if crowd or integer(field(ann, "num_keypoints", where), f"{where} num_keypoints") == 0:
                builder.drop("crowd or no keypoints")
                continue
            keypoints = _with_midpoints(array(field(ann, "keypoints", where), (17, 3), f"{where} keypoints"))
            width, height = image_size(img, f"{path}: image {image_id}")
            bbox_raw = array(field(ann, "bbox", where), (4,), f"{where} bbox")
            builder.add(
                image_path=file_name(field(img, "file_name", where), f"{path}: image {image_id} file_name"),
                image_id=image_id,
                width=width,
                height=height,
                bbox_raw=bbox_raw,
                bbox=process_bbox(bbox_raw, width, height),
                joints_img=np.concatenate([keypoints[:, :2], np.zeros((COCO.num_joints, 1))], axis=1),
                joints_vis=keypoints[:, 2] > 0,
                focal=np.array([NOMINAL_FOCAL, NOMINAL_FOCAL]),
                principal=np.array([width / 2, height / 2]),
            )
        return builder.build()
    detections_path = Path(bbox_root) if bbox_root is not None else root / BBOX_ROOT_FILE
    detections = read_json(detections_path, "RootNet bbox_root file for COCO")
    if not isinstance(detections, list):
        raise DatasetError(f"{detections_path}: expected a list of {{image_id, bbox, root_cam}}")
    builder = AnnotationBuilder("coco", split, image_dir, COCO, has_depth=False, has_gt=False)
    for i, det in enumerate(detections):
        where = f"{detections_path}: entry {i}"
        image_id, img = image_of(det, images, where)
        width, height = image_size(img, f"{path}: image {image_id}")
        bbox = array(field(det, "bbox", where), (4,), f"{where} bbox")
        builder.add(
            image_path=file_name(field(img, "file_name", where), f"{path}: image {image_id} file_name"),
            image_id=image_id,
            width=width,
            height=height,
            bbox_raw=bbox,
            bbox=bbox,
            joints_img=np.zeros((COCO.num_joints, 3)),
            joints_vis=np.zeros(COCO.num_joints),
            root_cam=array(field(det, "root_cam", where), (3,), f"{where} root_cam"),
            focal=np.array([NOMINAL_FOCAL, NOMINAL_FOCAL]),
            principal=np.array([width / 2, height / 2]),
            score=number(det.get("score", 1.0), f"{where} score"),
        )
    return builder.build()
