"""Synthetic humans in the Human3.6M layout (reference §9.1): a 4-camera studio per subject, world-space joints."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from mhp.data.body import body_to_world, interpolate_pose, joints_for, look_at, pose_joints, sample_pose, sample_shape
from mhp.data.h36m import ACTIONS
from mhp.data.render import random_background, sample_appearance
from mhp.data.synthetic import Person, joints_bbox
from mhp.data.writers import Truth, inside_image, project, render_people, rootnet_detection, write_jpeg
from mhp.geometry import world_to_camera
from mhp.skeleton import H36M
from mhp.util.fileio import write_json


def _rig(rng: np.random.Generator, cameras: tuple[int, ...], size: tuple[int, int]) -> dict[int, tuple]:
    """A studio of cameras around the capture area, as in Human3.6M (X_cam = R X_world + t)."""
    rig = {}
    for cam in cameras:
        angle = np.radians(45.0 + 90.0 * (cam - 1) + rng.uniform(-10, 10))
        radius, height = rng.uniform(4000, 5500), rng.uniform(1200, 1800)
        position = np.array([radius * np.cos(angle), radius * np.sin(angle), height])
        rotation, translation = look_at(position, np.array([0.0, 0.0, rng.uniform(800, 1100)]))
        f = rng.uniform(1.1, 1.2) * size[0]
        focal = np.array([f, f * rng.uniform(0.995, 1.005)])
        principal = np.array(size, dtype=np.float64) / 2 + rng.uniform(-10, 10, 2)
        rig[cam] = (rotation, translation, focal, principal)
    return rig


def write_h36m(
    out: str | Path,
    *,
    seed: int = 0,
    subjects: tuple[int, ...] = (1, 5, 6, 7, 8, 9, 11),
    actions: tuple[int, ...] = tuple(range(2, 17)),
    subactions: tuple[int, ...] = (1, 2),
    cameras: tuple[int, ...] = (1, 2, 3, 4),
    frames: int = 2,
    frame_step: int = 64,
    image_size: tuple[int, int] = (1000, 1000),
    on_image: Callable[[Path], None] | None = None,
) -> list[Truth]:
    """Human3.6M layout: one synthetic subject per subject id, filmed by a 4-camera rig.

    Frames ``0, frame_step, 2*frame_step, ...`` of every sequence are written (the real dataset has all of
    them; the readers subsample by frame index). A RootNet-style ``bbox_root`` file covers subjects 9 and 11.
    """
    out = Path(out)
    truths: list[Truth] = []
    image_id = 0
    detections = []
    for subject in subjects:
        rng = np.random.default_rng([seed, subject])
        shape, appearance = sample_shape(rng), sample_appearance(rng)
        rig = _rig(rng, cameras, image_size)
        backgrounds = {c: random_background(np.random.default_rng([seed, subject, c]), image_size) for c in cameras}
        images, annotations, joint_3d = [], [], {}
        for action in actions:
            for subaction in subactions:
                seq = np.random.default_rng([seed, subject, action, subaction])
                start, end = sample_pose(seq), sample_pose(seq)
                yaw, turn = seq.uniform(0, 360), seq.uniform(-30, 30)
                ground, walk = seq.uniform(-800, 800, 2), seq.uniform(-300, 300, 2)
                for k in range(frames):
                    frame, t = k * frame_step, k / max(frames - 1, 1)
                    body = pose_joints(shape, interpolate_pose(start, end, t))
                    root = np.array([*(ground + t * walk), -body[:, 1].min()])  # lowest point on the floor
                    world = body_to_world(body, yaw + t * turn, root)
                    joint_3d.setdefault(str(action), {}).setdefault(str(subaction), {})[str(frame)] = joints_for(
                        H36M, world
                    )[:17].tolist()
                    for cam in cameras:
                        rotation, translation, focal, principal = rig[cam]
                        person_cam = world_to_camera(world, rotation, translation)
                        joints_cam, joints_img = project(person_cam, H36M, focal, principal)
                        bbox = joints_bbox(joints_img[:17])
                        folder = f"s_{subject:02d}_act_{action:02d}_subact_{subaction:02d}_ca_{cam:02d}"
                        file_name = f"{folder}/{folder}_{frame + 1:06d}.jpg"
                        image = render_people(
                            [seed, subject, action, subaction, cam, frame],
                            image_size,
                            focal,
                            principal,
                            [Person(person_cam, appearance)],
                            occluders=False,
                            background=backgrounds[cam],
                        )
                        write_jpeg(out / "images" / file_name, image, on_image)
                        images.append(
                            {
                                "id": image_id,
                                "file_name": file_name,
                                "width": image_size[0],
                                "height": image_size[1],
                                "subject": subject,
                                "action_name": ACTIONS[action - 2],
                                "action_idx": action,
                                "subaction_idx": subaction,
                                "cam_idx": cam,
                                "frame_idx": frame,
                            }
                        )
                        vis = inside_image(joints_img[:17], image_size)
                        annotations.append(
                            {"id": image_id, "image_id": image_id, "keypoints_vis": vis.tolist(), "bbox": bbox.tolist()}
                        )
                        truths.append(Truth(file_name, image_id, joints_img, bbox, joints_cam, {"subject": subject}))
                        if subject in (9, 11):
                            detections.append(rootnet_detection(rng, image_id, bbox, image_size, joints_cam[H36M.root]))
                        image_id += 1
        base = out / "annotations" / f"Human36M_subject{subject}"
        write_json(Path(f"{base}_data.json"), {"images": images, "annotations": annotations}, indent=None)
        cams = {
            str(c): {"R": r.tolist(), "t": t.tolist(), "f": f.tolist(), "c": p.tolist()}
            for c, (r, t, f, p) in rig.items()
        }
        write_json(Path(f"{base}_camera.json"), cams, indent=None)
        write_json(Path(f"{base}_joint_3d.json"), joint_3d, indent=None)
    if detections:
        write_json(out / "bbox_root" / "bbox_root_human36m_output.json", detections, indent=None)
    return truths
