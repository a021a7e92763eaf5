"""Human3.6M in the 3DMPPE layout (reference §9.1).

```
ROOT/images/s_SS_act_AA_subact_BB_ca_CC/s_SS_act_AA_subact_BB_ca_CC_NNNNNN.jpg
ROOT/annotations/Human36M_subject{S}_data.json      COCO-like images + annotations (bbox of the projected joints)
ROOT/annotations/Human36M_subject{S}_camera.json    {"1".."4": {R, t, f, c}}, X_cam = R X_world + t
ROOT/annotations/Human36M_subject{S}_joint_3d.json  {action: {subaction: {frame: 17x3 world mm}}}
ROOT/bbox_root/bbox_root_human36m_output.json        RootNet boxes and roots (optional, test only)
```
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mhp.data.annotations import AnnotationBuilder, Annotations
from mhp.data.io import (
    INT32_MAX,
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
    require_dir,
)
from mhp.geometry import cam2pixel, process_bbox, world_to_camera
from mhp.skeleton import H36M

SUBJECTS = {
    ("train", 1): (1, 5, 6, 7, 8, 9),
    ("test", 1): (11,),
    ("train", 2): (1, 5, 6, 7, 8),
    ("test", 2): (9, 11),
}
TRAIN_STRIDE, TEST_STRIDE = 5, 64
ACTIONS = (
    "Directions",
    "Discussion",
    "Eating",
    "Greeting",
    "Phoning",
    "Posing",
    "Purchases",
    "Sitting",
    "SittingDown",
    "Smoking",
    "Photo",
    "Waiting",
    "Walking",
    "WalkDog",
    "WalkTogether",
)  # by action_idx - 2
CORRUPT_SEQUENCE = (11, 2, 2, 1)  # subject, action, subaction, camera: skipped (its video is broken)
BBOX_ROOT_FILE = Path("bbox_root") / "bbox_root_human36m_output.json"


def annotation_files(root: Path, subject: int) -> dict[str, Path]:
    base = Path(root) / "annotations"
    return {kind: base / f"Human36M_subject{subject}_{kind}.json" for kind in ("data", "camera", "joint_3d")}


def subjects_for(split: str, protocol: int) -> tuple[int, ...]:
    if (split, protocol) not in SUBJECTS:
        raise DatasetError(
            f"Human3.6M has splits train/test and protocols 1/2, not split={split!r} protocol={protocol}"
        )
    return SUBJECTS[(split, protocol)]


def _cameras(path: Path) -> dict[str, tuple[np.ndarray, ...]]:
    content = read_json(path, "Human3.6M camera file")
    if not isinstance(content, dict):
        raise DatasetError(f"{path}: expected an object keyed by camera index")
    cameras = {}
    for cam, params in content.items():
        where = f"{path}: camera {cam!r}"
        cameras[str(cam)] = (
            array(field(params, "R", where), (3, 3), f"{where} R"),
            array(field(params, "t", where), (3,), f"{where} t"),
            array(field(params, "f", where), (2,), f"{where} f"),
            array(field(params, "c", where), (2,), f"{where} c"),
        )
    return cameras


def _bbox_root(path: Path) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    content = read_json(path, "RootNet bbox_root file")
    if not isinstance(content, list):
        raise DatasetError(f"{path}: expected a list of {{image_id, bbox, root_cam}}")
    out = {}
    for i, item in enumerate(content):
        where = f"{path}: entry {i}"
        out[integer(field(item, "image_id", where), f"{where} image_id")] = (
            array(field(item, "bbox", where), (4,), f"{where} bbox"),
            array(field(item, "root_cam", where), (3,), f"{where} root_cam"),
        )
    return out


def read_h36m(
    root: str | Path,
    split: str = "train",
    protocol: int = 2,
    bbox_root: str | Path | None = None,
    stride: int | None = None,
    subjects: tuple[int, ...] | None = None,
) -> Annotations:
    """Samples of one split: every 5th frame for training, every 64th for testing (``stride`` overrides).

    With ``bbox_root`` (test only) boxes and root positions come from RootNet's output instead of the
    ground truth, as for the paper's "no GT info" numbers. ``subjects`` overrides the protocol's subjects.
    """
    root = Path(root)
    subjects = subjects or subjects_for(split, protocol)
    stride = stride or (TRAIN_STRIDE if split == "train" else TEST_STRIDE)
    require_dir(root / "images", "Human3.6M image folder")
    detections = None
    if bbox_root is not None:
        if split != "test":
            raise DatasetError("RootNet boxes (bbox_root) are for the Human3.6M test split only")
        detections = _bbox_root(Path(bbox_root))
    builder = AnnotationBuilder("h36m", split, root / "images", H36M, has_depth=True)
    for subject in subjects:
        _read_subject(builder, root, subject, stride, detections)
    return builder.build()


def _read_subject(
    builder: AnnotationBuilder,
    root: Path,
    subject: int,
    stride: int,
    detections: dict[int, tuple[np.ndarray, np.ndarray]] | None,
) -> None:
    files = annotation_files(root, subject)
    data = read_json(files["data"], f"Human3.6M subject {subject} annotations")
    cameras = _cameras(files["camera"])
    joints_world = read_json(files["joint_3d"], f"Human3.6M subject {subject} 3D joints")
    images = images_by_id(data, files["data"])
    thorax_from = (H36M.index("L_Shoulder"), H36M.index("R_Shoulder"))
    for i, ann in enumerate(entries(data, "annotations", files["data"])):
        where = f"{files['data']}: annotations[{i}]"
        image_id, img = image_of(ann, images, where)
        iwhere = f"{files['data']}: image {image_id}"
        frame, action, subaction, camera, img_subject = (
            integer(field(img, key, iwhere), f"{iwhere} {key}", 0, INT32_MAX)
            for key in ("frame_idx", "action_idx", "subaction_idx", "cam_idx", "subject")
        )
        if img_subject != subject or frame % stride != 0:
            continue
        if (subject, action, subaction, camera) == CORRUPT_SEQUENCE:
            builder.drop("corrupt sequence S11 act 2 subact 2 cam 1")
            continue
        if str(camera) not in cameras:
            raise DatasetError(f"{files['camera']}: no camera {camera} (needed by image {image_id})")
        rotation, translation, focal, principal = cameras[str(camera)]
        try:
            world = joints_world[str(action)][str(subaction)][str(frame)]
        except (KeyError, TypeError):
            raise DatasetError(
                f"{files['joint_3d']}: no joints for action {action} subaction {subaction} frame {frame}"
            ) from None
        world = array(world, (17, 3), f"{files['joint_3d']}: action {action} subaction {subaction} frame {frame}")
        world = np.concatenate([world, world[list(thorax_from)].mean(axis=0, keepdims=True)])  # append Thorax
        joints_cam = world_to_camera(world, rotation, translation)
        joints_img = cam2pixel(joints_cam, focal, principal)
        joints_img[:, 2] -= joints_cam[H36M.root, 2]
        width, height = image_size(img, iwhere)
        bbox_raw = array(field(ann, "bbox", where), (4,), f"{where} bbox")
        if detections is not None:
            if image_id not in detections:
                builder.drop("no RootNet detection for the image")
                continue
            bbox, root_cam = detections[image_id]
        else:
            bbox, root_cam = process_bbox(bbox_raw, width, height), joints_cam[H36M.root]
        builder.add(
            image_path=file_name(field(img, "file_name", iwhere), f"{iwhere} file_name"),
            image_id=image_id,
            width=width,
            height=height,
            bbox_raw=bbox_raw,
            bbox=bbox,
            joints_img=joints_img,
            joints_cam=joints_cam,
            joints_vis=np.ones(H36M.num_joints),
            root_cam=root_cam,
            focal=focal,
            principal=principal,
            group=ACTIONS[action - 2] if 2 <= action <= 16 else f"action{action}",
            subject=subject,
        )
