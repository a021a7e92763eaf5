"""Write synthetic humans in the exact on-disk layout of each real dataset (JPEG frames + the original JSON).

The readers load these folders unchanged, so every reader, the checker and the training input pipeline are
tested on real files. Each writer returns the ground truth it wrote (:class:`Truth`), for round-trip tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from mhp.data.body import joints_for, sample_camera
from mhp.data.render import render_scene
from mhp.data.synthetic import Person, joints_bbox, sample_person
from mhp.geometry import cam2pixel, process_bbox
from mhp.skeleton import COCO, MPII, MUCO, MUPOTS, JointSet
from mhp.util.fileio import atomic_path, write_json

JPEG_QUALITY = 90


@dataclass
class Truth:
    """One written annotation: the image, the joints in the dataset's own set, the annotated box."""

    file_name: str
    image_id: int
    joints_img: np.ndarray  # (J, 2) pixels
    bbox: np.ndarray
    joints_cam: np.ndarray | None = None  # (J, 3) mm, 3D datasets
    extra: dict[str, Any] = field(default_factory=dict)


def write_jpeg(path: Path, image: np.ndarray, on_image: Callable[[Path], None] | None = None) -> None:
    """``image`` as a JPEG at ``path`` (atomically); ``on_image(path)`` afterwards, for progress."""
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise RuntimeError(f"JPEG encoding failed for {path}")
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.tobytes())
    if on_image is not None:
        on_image(path)


def project(person_cam: np.ndarray, joint_set: JointSet, focal: np.ndarray, principal: np.ndarray):
    joints_cam = joints_for(joint_set, person_cam)
    return joints_cam, cam2pixel(joints_cam, focal, principal)[:, :2]


def inside_image(points: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return (points[:, 0] >= 0) & (points[:, 0] < size[0]) & (points[:, 1] >= 0) & (points[:, 1] < size[1])


def sample_scene(
    rng: np.random.Generator, size: tuple[int, int], people: int
) -> tuple[np.ndarray, np.ndarray, list[Person]]:
    focal, principal = sample_camera(rng, size)
    return focal, principal, [sample_person(rng, size, focal, principal) for _ in range(people)]


def render_people(seed_key: list[int], size, focal, principal, people: list[Person], **kwargs: Any) -> np.ndarray:
    pairs = [(p.joints_cam, p.appearance) for p in people]
    return render_scene(np.random.default_rng(seed_key), size, focal, principal, pairs, **kwargs)


def rootnet_detection(
    rng: np.random.Generator, image_id: int, bbox: np.ndarray, size: tuple[int, int], root: np.ndarray
) -> dict[str, Any]:
    """A RootNet-like output: the processed box and the root, both perturbed a little."""
    box = process_bbox(bbox, size[0], size[1])
    box = (box if box is not None else bbox) + rng.normal(0, 3, 4)
    return {
        "image_id": image_id,
        "bbox": box.tolist(),
        "root_cam": (root + rng.normal(0, 40, 3)).tolist(),
        "score": float(rng.uniform(0.6, 1.0)),
    }


# ---- 2D sets: MPII and COCO ----------------------------------------------------------------------------


def _keypoint_entry(joints_img: np.ndarray, size: tuple[int, int]) -> tuple[list[float], int, np.ndarray]:
    """COCO-style flat keypoints (x, y, v) with v = 2 inside the image, else 0; num_keypoints; bbox."""
    vis = inside_image(joints_img, size)
    flat = np.concatenate([joints_img, np.where(vis, 2.0, 0.0)[:, None]], axis=1)
    bbox = joints_bbox(joints_img[vis]) if vis.sum() >= 2 else np.zeros(4)
    return flat.ravel().tolist(), int(vis.sum()), bbox


def _write_2d(
    out: Path,
    split_dir: str,
    file_prefix: str,
    joint_set: JointSet,
    num_joints: int,
    *,
    seed: int,
    num_images: int,
    image_size: tuple[int, int],
    extra_entries: bool,
    on_image: Callable[[Path], None] | None,
) -> tuple[dict[str, Any], list[Truth]]:
    images, annotations, truths = [], [], []
    for image_id in range(num_images):
        rng = np.random.default_rng([seed, image_id])
        focal, principal, people = sample_scene(rng, image_size, int(rng.integers(1, 4)))
        file_name = f"{file_prefix}{image_id:06d}.jpg"
        image = render_people([seed, image_id, 1], image_size, focal, principal, people)
        write_jpeg(out / split_dir / file_name, image, on_image)
        images.append({"id": image_id, "file_name": file_name, "width": image_size[0], "height": image_size[1]})
        for person in people:
            _, joints_img = project(person.joints_cam, joint_set, focal, principal)
            keypoints, count, bbox = _keypoint_entry(joints_img[:num_joints], image_size)
            annotations.append(
                {
                    "id": len(annotations),
                    "image_id": image_id,
                    "category_id": 1,
                    "iscrowd": 0,
                    "bbox": bbox.tolist(),
                    "num_keypoints": count,
                    "keypoints": keypoints,
                    "area": float(bbox[2] * bbox[3]),
                }
            )
            if count:
                truths.append(Truth(file_name, image_id, joints_img, bbox))
    if extra_entries and num_images:  # entries the readers must skip: no keypoints, and a crowd
        empty = {
            "id": len(annotations),
            "image_id": 0,
            "category_id": 1,
            "iscrowd": 0,
            "bbox": [10, 10, 50, 80],
            "num_keypoints": 0,
            "keypoints": [0.0] * (3 * num_joints),
            "area": 4000.0,
        }
        annotations.append(empty)
        annotations.append({**empty, "id": len(annotations), "iscrowd": 1, "num_keypoints": 5})
    return {"images": images, "annotations": annotations}, truths


def write_mpii(
    out: str | Path,
    *,
    seed: int = 0,
    num_images: int = 40,
    image_size: tuple[int, int] = (640, 480),
    on_image: Callable[[Path], None] | None = None,
) -> list[Truth]:
    """MPII layout: ``annotations/train.json`` with ``images/`` file names."""
    out = Path(out)
    sizes = {"num_images": num_images, "image_size": image_size}
    content, truths = _write_2d(
        out, ".", "images/", MPII, 16, seed=seed, extra_entries=True, on_image=on_image, **sizes
    )
    content["annotations"] = [a for a in content["annotations"] if not a["iscrowd"]]  # MPII has no crowds
    write_json(out / "annotations" / "train.json", content, indent=None)
    return truths


def write_coco(
    out: str | Path,
    *,
    seed: int = 0,
    num_images: int = 40,
    test_images: int = 10,
    image_size: tuple[int, int] = (640, 480),
    on_image: Callable[[Path], None] | None = None,
) -> list[Truth]:
    """COCO layout: train2017 keypoints, and val2017 images with a RootNet ``bbox_root`` file for the test split."""
    out = Path(out)
    content, truths = _write_2d(
        out,
        "images/train2017",
        "",
        COCO,
        17,
        seed=seed,
        num_images=num_images,
        image_size=image_size,
        extra_entries=True,
        on_image=on_image,
    )
    write_json(out / "annotations" / "person_keypoints_train2017.json", content, indent=None)
    val, _ = _write_2d(
        out,
        "images/val2017",
        "",
        COCO,
        17,
        seed=seed + 1,
        num_images=test_images,
        image_size=image_size,
        extra_entries=False,
        on_image=on_image,
    )
    write_json(out / "annotations" / "person_keypoints_val2017.json", val, indent=None)
    rng = np.random.default_rng([seed, 99])
    detections = [
        rootnet_detection(rng, a["image_id"], np.asarray(a["bbox"]), image_size, np.array([0.0, 0.0, 5000.0]))
        for a in val["annotations"]
        if a["num_keypoints"] >= 2
    ]
    write_json(out / "bbox_root" / "bbox_root_coco_output.json", detections, indent=None)
    return truths


# ---- 3D multi-person sets: MuCo-3DHP and MuPoTS-3D -----------------------------------------------------


def _moved_near(rng: np.random.Generator, person: Person, anchor: np.ndarray) -> Person:
    """``person`` shifted so its pelvis is 150-400 mm from ``anchor`` (a pair MuCo's selection must split)."""
    direction = rng.normal(size=3)
    direction[1] = 0.0
    target = anchor + direction / np.linalg.norm(direction) * rng.uniform(150, 400)
    return Person(person.joints_cam + (target - person.joints_cam[0]), person.appearance)


def _multi_person_entry(person: Person, joint_set: JointSet, focal, principal, size) -> tuple[dict[str, Any], Truth]:
    joints_cam, joints_img = project(person.joints_cam, joint_set, focal, principal)
    bbox = joints_bbox(joints_img)
    entry = {
        "keypoints_cam": joints_cam.tolist(),
        "keypoints_img": joints_img.tolist(),
        "keypoints_vis": inside_image(joints_img, size).tolist(),
        "bbox": bbox.tolist(),
    }
    return entry, Truth("", 0, joints_img, bbox, joints_cam)


def write_muco(
    out: str | Path,
    *,
    seed: int = 0,
    num_images: int = 40,
    image_size: tuple[int, int] = (640, 640),
    on_image: Callable[[Path], None] | None = None,
) -> list[Truth]:
    """MuCo-3DHP layout: ``data/MuCo-3DHP.json``, images in ``data/augmented_set`` and ``data/unaugmented_set``.

    Images hold 1-4 people; about a third put a second person within 500 mm of the first, whom the reader's
    person selection must drop. ``Truth.extra["selected"]`` says whether the original rule keeps a person.
    """
    from mhp.data.muco import select_people

    out = Path(out)
    images, annotations, truths = [], [], []
    for image_id in range(num_images):
        rng = np.random.default_rng([seed, image_id])
        focal, principal, people = sample_scene(rng, image_size, int(rng.integers(1, 5)))
        if len(people) > 1 and rng.random() < 0.35:
            people[1] = _moved_near(rng, people[1], people[0].joints_cam[0])
        folder = "augmented_set" if image_id % 4 else "unaugmented_set"
        file_name = f"{folder}/{image_id:06d}.jpg"
        image = render_people([seed, image_id, 1], image_size, focal, principal, people)
        write_jpeg(out / "data" / file_name, image, on_image)
        images.append(
            {
                "id": image_id,
                "file_name": file_name,
                "width": image_size[0],
                "height": image_size[1],
                "f": focal.tolist(),
                "c": principal.tolist(),
            }
        )
        entries = [_multi_person_entry(p, MUCO, focal, principal, image_size) for p in people]
        kept = set(select_people(np.array([e["keypoints_cam"][MUCO.root] for e, _ in entries])))
        for k, (entry, truth) in enumerate(entries):
            annotations.append({"id": len(annotations), "image_id": image_id, **entry})
            truth.file_name, truth.image_id, truth.extra = file_name, image_id, {"selected": k in kept}
            truths.append(truth)
    write_json(out / "data" / "MuCo-3DHP.json", {"images": images, "annotations": annotations}, indent=None)
    return truths


def write_mupots(
    out: str | Path,
    *,
    seed: int = 0,
    sequences: int = 4,
    frames: int = 5,
    image_size: tuple[int, int] = (640, 480),
    invalid_rate: float = 0.15,
    on_image: Callable[[Path], None] | None = None,
) -> list[Truth]:
    """MuPoTS-3D layout: ``data/MuPoTS-3D.json``, ``data/MultiPersonTestSet/TS{n}/img_{%06d}.jpg`` and a
    RootNet-style ``bbox_root/bbox_root_mupots_output.json``. Some people are marked ``is_valid`` 0."""
    out = Path(out)
    images, annotations, truths, detections = [], [], [], []
    image_id = 0
    for sequence in range(1, sequences + 1):
        seq = np.random.default_rng([seed, sequence])
        focal, principal = sample_camera(seq, image_size)
        intrinsic = [*focal.tolist(), *principal.tolist()]
        for frame in range(frames):
            rng = np.random.default_rng([seed, sequence, frame])
            people = [sample_person(rng, image_size, focal, principal) for _ in range(int(rng.integers(2, 4)))]
            file_name = f"TS{sequence}/img_{frame:06d}.jpg"
            image = render_people([seed, sequence, frame, 1], image_size, focal, principal, people)
            write_jpeg(out / "data" / "MultiPersonTestSet" / file_name, image, on_image)
            images.append(
                {
                    "id": image_id,
                    "file_name": file_name,
                    "width": image_size[0],
                    "height": image_size[1],
                    "intrinsic": intrinsic,
                }
            )
            for person in people:
                entry, truth = _multi_person_entry(person, MUPOTS, focal, principal, image_size)
                valid = int(rng.random() >= invalid_rate)
                annotations.append({"id": len(annotations), "image_id": image_id, "is_valid": valid, **entry})
                truth.file_name, truth.image_id, truth.extra = file_name, image_id, {"is_valid": valid}
                truths.append(truth)
                root = np.asarray(entry["keypoints_cam"][MUPOTS.root])
                detections.append(rootnet_detection(rng, image_id, truth.bbox, image_size, root))
            image_id += 1
    write_json(out / "data" / "MuPoTS-3D.json", {"images": images, "annotations": annotations}, indent=None)
    write_json(out / "bbox_root" / "bbox_root_mupots_output.json", detections, indent=None)
    return truths
