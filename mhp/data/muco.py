"""MuCo-3DHP (reference §9.3): composited multi-person training images with 21-joint 3D ground truth.

```
ROOT/data/MuCo-3DHP.json     images {id, file_name, width, height, f, c}; annotations {image_id, keypoints_cam 21x3,
                             keypoints_img 21x2, keypoints_vis, bbox}
ROOT/data/<file_name>        augmented_set/... and unaugmented_set/...
```
"""

from __future__ import annotations

from collections import defaultdict
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
    read_json,
    require_dir,
)
from mhp.geometry import process_bbox
from mhp.skeleton import MUCO

ANNOTATION_FILE = Path("data") / "MuCo-3DHP.json"
MIN_SEPARATION_MM = 500.0


def select_people(roots: np.ndarray) -> list[int]:
    """The original person selection: the nearest person, plus everyone whose root is at least 500 mm from
    every other person's both in the x-y plane and in 3D."""
    nearest = int(np.argmin(roots[:, 2]))
    picked = [nearest]
    for i in range(len(roots)):
        if i == nearest:
            continue
        others = np.delete(roots, i, axis=0)
        diff = others - roots[i]
        far_2d = np.linalg.norm(diff[:, :2], axis=1) >= MIN_SEPARATION_MM
        far_3d = np.linalg.norm(diff, axis=1) >= MIN_SEPARATION_MM
        if np.all(far_2d & far_3d):
            picked.append(i)
    return picked


def _keypoints_cam(ann: dict, where: str) -> np.ndarray:
    return array(field(ann, "keypoints_cam", where), (MUCO.num_joints, 3), f"{where} keypoints_cam")


def add_person(
    builder: AnnotationBuilder,
    ann: dict,
    joints_cam: np.ndarray,
    *,
    where: str,
    image_path: str,
    image_id: int,
    size: tuple[int, int],
    focal: np.ndarray,
    principal: np.ndarray,
    **extra: object,
) -> None:
    """Add one person of the MuCo/MuPoTS annotation format (keypoints_img, keypoints_cam, bbox) to ``builder``."""
    joint_set = builder.joint_set
    j = joint_set.num_joints
    keypoints_img = array(field(ann, "keypoints_img", where), (j, 2), f"{where} keypoints_img")
    joints_img = np.concatenate([keypoints_img, joints_cam[:, 2:] - joints_cam[joint_set.root, 2]], axis=1)
    bbox_raw = array(field(ann, "bbox", where), (4,), f"{where} bbox")
    builder.add(
        image_path=image_path,
        image_id=image_id,
        width=size[0],
        height=size[1],
        bbox_raw=bbox_raw,
        bbox=process_bbox(bbox_raw, size[0], size[1]),
        joints_img=joints_img,
        joints_cam=joints_cam,
        joints_vis=np.ones(j),
        root_cam=joints_cam[joint_set.root],
        focal=focal,
        principal=principal,
        **extra,
    )


def read_muco(root: str | Path, split: str = "train") -> Annotations:
    root = Path(root)
    if split != "train":
        raise DatasetError(f"MuCo-3DHP has only a train split, not {split!r}")
    path = root / ANNOTATION_FILE
    content = read_json(path, "MuCo-3DHP annotation file")
    images = images_by_id(content, path)
    image_dir = require_dir(root / "data", "MuCo-3DHP image folder")
    people: dict[int, list[tuple[int, dict]]] = defaultdict(list)
    for i, ann in enumerate(entries(content, "annotations", path)):
        image_id, _ = image_of(ann, images, f"{path}: annotations[{i}]")
        people[image_id].append((i, ann))
    builder = AnnotationBuilder("muco", split, image_dir, MUCO, has_depth=True)
    for image_id, anns in people.items():
        img = images[image_id]
        iwhere = f"{path}: image {image_id}"
        cams = [_keypoints_cam(a, f"{path}: annotations[{i}]") for i, a in anns]
        selected = select_people(np.stack([c[MUCO.root] for c in cams]))
        builder.drop("not selected (within 500 mm of another person)", len(anns) - len(selected))
        width, height = image_size(img, iwhere)
        focal = array(field(img, "f", iwhere), (2,), f"{iwhere} f")
        principal = array(field(img, "c", iwhere), (2,), f"{iwhere} c")
        for k in selected:
            i, ann = anns[k]
            add_person(
                builder,
                ann,
                cams[k],
                where=f"{path}: annotations[{i}]",
                image_path=file_name(field(img, "file_name", iwhere), f"{iwhere} file_name"),
                image_id=image_id,
                size=(width, height),
                focal=focal,
                principal=principal,
            )
    return builder.build()
