"""Every reader reads hand-written excerpts of the real on-disk formats (reference §9) to hand-computed numbers."""

import json

import cv2
import numpy as np
import pytest

from mhp.data import read_dataset
from mhp.skeleton import COCO, H36M, MPII, MUCO, MUPOTS

PX, MM = 1e-3, 1e-3
# Reference §6.1 test vectors of process_bbox on the 640x392 demo image: raw [x, y, w, h] -> processed box.
SPEC_BOXES = [
    ([139.41, 102.25, 222.39, 241.57], [99.749, 72.179, 300.712, 300.712]),
    ([287.17, 61.52, 74.88, 165.61], [221.229, 40.944, 205.763, 205.763]),
]


def dump(path, content):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content))
    return path


def image(path, width, height):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.full((height, width, 3), 90, np.uint8))


def project(cam, f, c):
    """x = fx X / Z + cx, y = fy Y / Z + cy."""
    return cam[:, :2] / cam[:, 2:] * np.asarray(f) + np.asarray(c)


def test_joint_orders_are_the_documented_ones():
    # Readers index joints by position, so the orders must be those of reference §8.
    assert H36M.joints[:17] == (
        *("Pelvis", "R_Hip", "R_Knee", "R_Ankle", "L_Hip", "L_Knee", "L_Ankle", "Torso", "Neck", "Nose"),
        *("Head", "L_Shoulder", "L_Elbow", "L_Wrist", "R_Shoulder", "R_Elbow", "R_Wrist"),
    )
    assert H36M.joints[17] == "Thorax"
    assert MPII.joints == (
        *("R_Ankle", "R_Knee", "R_Hip", "L_Hip", "L_Knee", "L_Ankle", "Pelvis", "Thorax", "Neck", "Head"),
        *("R_Wrist", "R_Elbow", "R_Shoulder", "L_Shoulder", "L_Elbow", "L_Wrist"),
    )
    assert COCO.joints == (
        *("Nose", "L_Eye", "R_Eye", "L_Ear", "R_Ear", "L_Shoulder", "R_Shoulder", "L_Elbow", "R_Elbow"),
        *("L_Wrist", "R_Wrist", "L_Hip", "R_Hip", "L_Knee", "R_Knee", "L_Ankle", "R_Ankle", "Thorax", "Pelvis"),
    )
    assert MUCO.joints == (
        *("Head_top", "Thorax", "R_Shoulder", "R_Elbow", "R_Wrist", "L_Shoulder", "L_Elbow", "L_Wrist", "R_Hip"),
        *("R_Knee", "R_Ankle", "L_Hip", "L_Knee", "L_Ankle", "Pelvis", "Spine", "Head", "R_Hand", "L_Hand"),
        *("R_Toe", "L_Toe"),
    )
    assert MUPOTS.joints == MUCO.joints[:17]
    assert (H36M.root, MUCO.root, MUPOTS.root) == (0, 14, 14)


# ---- Human3.6M (§9.1) -------------------------------------------------------------------------------------------
S3 = 3**0.5 / 2
CAMERAS = {  # X_cam = R X_world + t, t in mm; f = [fx, fy], c = [cx, cy] in px
    "1": {
        "R": [[S3, -0.5, 0], [0, 0, -1], [0.5, S3, 0]],
        "t": [120, -80, 5200],
        "f": [1145.0, 1143.8],
        "c": [512.5, 515.4],
    },
    "2": {"R": [[0, -1, 0], [0, 0, -1], [1, 0, 0]], "t": [-50, 40, 4800], "f": [1149.7, 1147.6], "c": [508.8, 508.1]},
}
FRAMES = (0, 5, 32, 64, 128)  # frame_idx, 0-based; the file number is frame_idx + 1
SEQUENCES = ((2, 1, 1), (2, 2, 1), (16, 1, 2))  # (action_idx, subaction_idx, cam_idx)
ACTION_NAMES = {2: "Directions", 16: "WalkTogether"}
H36M_BOX, H36M_BOX_PROCESSED = [300.0, 200.0, 151.0, 401.0], [125.0, 150.0, 500.0, 500.0]  # 1000x1002 image


def world_pose(action, subaction, frame):
    """17 world joints (mm): Pelvis at (100, 214, 903) for action 2 / subaction 1 / frame 0, moving with each."""
    pose = np.array([[100.0 + 13 * j, 200.0 - 9 * j, 900.0 + 40 * j] for j in range(17)])
    pose[11], pose[14] = [300, 150, 1400], [-80, 230, 1420]  # L_Shoulder, R_Shoulder
    return pose + np.array([frame, 7 * action, 3 * subaction])


def write_h36m_subject(root, subject):
    images, annotations, joints = [], [], {}
    for action, subaction, cam in SEQUENCES:
        folder = f"s_{subject:02d}_act_{action:02d}_subact_{subaction:02d}_ca_{cam:02d}"
        for frame in FRAMES:
            image_id, name = subject * 1000 + len(images), f"{folder}/{folder}_{frame + 1:06d}.jpg"
            image(root / "images" / name, 1000, 1002)
            images.append(
                {"id": image_id, "file_name": name, "width": 1000, "height": 1002, "subject": subject}
                | {"action_name": ACTION_NAMES[action], "action_idx": action, "subaction_idx": subaction}
                | {"cam_idx": cam, "frame_idx": frame}
            )
            annotations.append({"id": image_id, "image_id": image_id, "keypoints_vis": [True] * 17, "bbox": H36M_BOX})
            joints.setdefault(str(action), {}).setdefault(str(subaction), {})[str(frame)] = world_pose(
                action, subaction, frame
            ).tolist()
    base = root / "annotations"
    dump(base / f"Human36M_subject{subject}_data.json", {"images": images, "annotations": annotations})
    dump(base / f"Human36M_subject{subject}_camera.json", CAMERAS)
    dump(base / f"Human36M_subject{subject}_joint_3d.json", joints)


@pytest.fixture(scope="module")
def h36m_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("h36m")
    for subject in (1, 5, 6, 7, 8, 9, 11):
        write_h36m_subject(root, subject)
    return root


def sequence_of(path):
    """(action, subaction, camera, frame_idx) parsed from an image path: the file number is frame_idx + 1."""
    parts = path.split("/")[-1].removesuffix(".jpg").split("_")
    return int(parts[3]), int(parts[5]), int(parts[7]), int(parts[8]) - 1


def test_h36m_camera_convention_thorax_and_frame_numbering(h36m_root):
    a = read_dataset("h36m", h36m_root, "test", protocol=2)
    names = [p.decode() for p in a.image_paths]
    i = names.index("s_09_act_02_subact_01_ca_01/s_09_act_02_subact_01_ca_01_000001.jpg")
    r = a.record(i)
    assert a.image_path(i).is_file()
    assert a.load_image(i).shape == (1002, 1000, 3)
    # Hand computation: R (100, 214, 903) + t = (86.60254 - 107 + 120, -903 - 80, 50 + 185.32944 + 5200)
    assert np.abs(r.root_cam - [99.60254, -983.0, 5435.32944]).max() < MM
    assert np.abs(r.joints_cam[0] - r.root_cam).max() < MM
    assert np.abs(r.joints_img[0] - [1145.0 * 99.60254 / 5435.32944 + 512.5, 308.53942, 0.0]).max() < PX
    assert np.allclose(r.focal, [1145.0, 1143.8])
    assert np.allclose(r.principal, [512.5, 515.4])
    assert np.abs(r.bbox_raw - H36M_BOX).max() < PX
    assert np.abs(r.bbox - H36M_BOX_PROCESSED).max() < PX
    assert (r.group, r.subject) == ("Directions", 9)
    for k, name in enumerate(names):  # every sample: its own camera and its own (0-based) frame of joint_3d
        action, subaction, cam, frame = sequence_of(name)
        world = world_pose(action, subaction, frame)
        world = np.vstack([world, (world[11] + world[14]) / 2])  # Thorax appended as joint 18 (index 17)
        cam_params = CAMERAS[str(cam)]
        expected = world @ np.array(cam_params["R"], float).T + cam_params["t"]
        r = a.record(k)
        assert np.abs(r.joints_cam - expected).max() < MM, name
        assert np.abs(r.joints_img[:, :2] - project(expected, cam_params["f"], cam_params["c"])).max() < PX, name
        assert np.abs(r.joints_img[:, 2] - (expected[:, 2] - expected[0, 2])).max() < MM, name  # mm from Pelvis
        assert r.joints_vis.all()
    assert {sequence_of(n)[3] for n in names} == {0, 64, 128}  # test: frame_idx % 64 == 0
    assert a.counts("group") == {"Directions": 9, "WalkTogether": 6}  # 3 S11 Directions frames are corrupt


@pytest.mark.parametrize(
    ("split", "protocol", "subjects", "frames"),
    [
        ("train", 1, (1, 5, 6, 7, 8, 9), {0, 5}),
        ("test", 1, (11,), {0, 64, 128}),
        ("train", 2, (1, 5, 6, 7, 8), {0, 5}),
        ("test", 2, (9, 11), {0, 64, 128}),
    ],
)
def test_h36m_protocol_subjects_and_strides(h36m_root, split, protocol, subjects, frames):
    a = read_dataset("h36m", h36m_root, split, protocol=protocol)
    per_sequence = len(frames)  # train: frame_idx % 5 == 0; test: frame_idx % 64 == 0
    expected = {str(s): len(SEQUENCES) * per_sequence for s in subjects}
    if 11 in subjects:  # S11 act 2 subact 2 cam 1 is skipped
        expected["11"] -= per_sequence
        assert a.dropped == {"corrupt sequence S11 act 2 subact 2 cam 1": per_sequence}
    assert a.counts("subject") == expected
    kept = {sequence_of(p.decode()) for p in a.image_paths}
    assert {s[3] for s in kept} == frames
    assert (11, 2, 2, 1) not in {(int(p.decode()[2:4]), *sequence_of(p.decode())[:3]) for p in a.image_paths}


def test_h36m_rootnet_boxes_and_roots_are_taken_unchanged(h36m_root, tmp_path):
    gt = read_dataset("h36m", h36m_root, "test")
    ids = [int(gt.image_ids[0]), int(gt.image_ids[-1])]
    detections = [
        {"image_id": ids[0], "bbox": [-91.881, 16.354, 273.862, 273.862], "root_cam": [-187.8, -522.5, 5443.7]},
        {"image_id": ids[1], "bbox": [450.545, 21.015, 277.95, 277.95], "root_cam": [310.0, -402.5, 4890.25]},
    ]
    path = dump(tmp_path / "bbox_root" / "bbox_root_human36m_output.json", detections)
    a = read_dataset("h36m", h36m_root, "test", bbox_root=path)
    assert len(a) == 2
    assert a.dropped["no RootNet detection for the image"] == len(gt) - 2
    for det in detections:
        i = list(a.image_ids).index(det["image_id"])
        assert np.abs(a.bbox[i] - det["bbox"]).max() < 1e-9  # already processed: not clipped or expanded again
        assert np.abs(a.root_cam[i] - det["root_cam"]).max() < 1e-9
        assert np.abs(a.bbox_raw[i] - H36M_BOX).max() < PX  # the annotation's own box is kept as the raw one
        j = list(gt.image_ids).index(det["image_id"])
        assert np.abs(a.joints_cam[i] - gt.joints_cam[j]).max() < MM


# ---- MPII (§9.2) ------------------------------------------------------------------------------------------------
def test_mpii_excerpt(tmp_path):
    # The images/ prefix of file_name is [UNCONFIRMED] in §9.2; the reader resolves ROOT/<file_name> (checked here).
    name = "images/015601864.jpg"
    image(tmp_path / name, 640, 392)
    xy = np.array([[150.0 + 11 * j, 90.0 + 17 * j] for j in range(16)])
    v = [1] * 16
    xy[3], v[3] = 0, 0  # L_Hip not labelled
    v[9] = 2
    keypoints = [n for j in range(16) for n in (*xy[j], v[j])]
    content = {
        "images": [{"id": 7, "file_name": name, "width": 640, "height": 392}],
        "annotations": [
            {"id": 1, "image_id": 7, "bbox": SPEC_BOXES[0][0], "keypoints": keypoints, "num_keypoints": 15},
            {"id": 2, "image_id": 7, "bbox": [10, 10, 50, 80], "keypoints": [0] * 48, "num_keypoints": 0},
        ],
    }
    dump(tmp_path / "annotations" / "train.json", content)
    a = read_dataset("mpii", tmp_path, "train")
    assert len(a) == 1
    assert a.dropped == {"no keypoints": 1}
    assert a.image_path(0) == tmp_path / name
    assert a.load_image(0).shape == (392, 640, 3)
    r = a.record(0)
    assert np.abs(r.joints_img[:, :2] - xy).max() < PX
    assert not r.joints_img[:, 2].any()
    assert r.joints_img[9, 0] == pytest.approx(150 + 99, abs=PX)  # Head is index 9, 0-based
    assert list(r.joints_vis > 0) == [j != 3 for j in range(16)]
    assert not a.has_depth
    assert np.abs(r.bbox - SPEC_BOXES[0][1]).max() < PX
    assert np.abs(r.bbox_raw - SPEC_BOXES[0][0]).max() < PX


# ---- COCO (§8.3, §9.5) ------------------------------------------------------------------------------------------
def test_coco_train_excerpt_and_derived_thorax_pelvis(tmp_path):
    image(tmp_path / "images" / "train2017" / "000000000785.jpg", 640, 392)
    xyv = np.array([[200.0 + 5 * j, 80.0 + 12 * j, 2] for j in range(17)])
    xyv[5], xyv[6] = [300, 120, 2], [260, 124, 1]  # L_Shoulder labelled visible, R_Shoulder labelled occluded
    xyv[11], xyv[12] = [296, 220, 2], [0, 0, 0]  # R_Hip not labelled
    xyv[1] = [0, 0, 0]  # L_Eye not labelled
    person = {"id": 1, "image_id": 785, "iscrowd": 0, "num_keypoints": 15, "bbox": SPEC_BOXES[1][0]}
    crowd = {"id": 2, "image_id": 785, "iscrowd": 1, "num_keypoints": 3, "bbox": [10, 10, 90, 90]}
    empty = {"id": 3, "image_id": 785, "iscrowd": 0, "num_keypoints": 0, "bbox": [20, 20, 40, 40]}
    content = {
        "images": [{"id": 785, "file_name": "000000000785.jpg", "width": 640, "height": 392}],
        "annotations": [
            person | {"keypoints": xyv.ravel().tolist()},
            crowd | {"keypoints": [250, 100, 2] * 3 + [0] * 42},
            empty | {"keypoints": [0] * 51},
        ],
    }
    dump(tmp_path / "annotations" / "person_keypoints_train2017.json", content)
    a = read_dataset("coco", tmp_path, "train")
    assert len(a) == 1
    assert a.dropped == {"crowd or no keypoints": 2}
    assert a.image_path(0).is_file()
    r = a.record(0)
    assert np.abs(r.joints_img[:17, :2] - xyv[:, :2]).max() < PX
    assert not r.joints_img[:, 2].any()
    assert np.abs(r.joints_img[17, :2] - [280, 122]).max() < PX  # Thorax = mid-shoulders
    assert np.abs(r.joints_img[18, :2] - [148, 110]).max() < PX  # Pelvis = mid-hips (invisible here)
    assert list(r.joints_vis > 0) == [j not in (1, 12, 18) for j in range(19)]  # Thorax vis 2*1 > 0, Pelvis 2*0
    assert np.abs(r.bbox - SPEC_BOXES[1][1]).max() < PX
    assert np.allclose(r.focal, [1500, 1500])
    assert np.allclose(r.principal, [320, 196])


def test_coco_test_takes_rootnet_boxes_unchanged(tmp_path):
    image(tmp_path / "images" / "val2017" / "000000000139.jpg", 640, 426)
    images = [{"id": 139, "file_name": "000000000139.jpg", "width": 640, "height": 426}]
    dump(tmp_path / "annotations" / "person_keypoints_val2017.json", {"images": images, "annotations": []})
    detections = [
        {"image_id": 139, "bbox": [412.8, 157.61, 53.05, 53.05], "root_cam": [1210.5, 142.0, 11042.7]},
        {"image_id": 139, "bbox": [-30.25, 100.5, 320.0, 320.0], "root_cam": [-900.0, 350.0, 4100.0]},
    ]
    dump(tmp_path / "bbox_root" / "bbox_root_coco_output.json", detections)
    a = read_dataset("coco", tmp_path, "test")  # the default RootNet file under ROOT/bbox_root
    assert len(a) == 2
    assert not a.has_gt
    for i, det in enumerate(detections):
        assert np.abs(a.bbox[i] - det["bbox"]).max() < 1e-9
        assert np.abs(a.root_cam[i] - det["root_cam"]).max() < 1e-9
        assert np.allclose(a.focal[i], [1500, 1500])
        assert np.allclose(a.principal[i], [320, 213])
    assert a.image_path(0).is_file()


# ---- MuCo-3DHP (§9.3) and MuPoTS-3D (§9.4) ----------------------------------------------------------------------
def person(root, n):
    """n joints in camera mm; joint j sits (30j - 420, 25j - 350, 10j - 140) mm from the Pelvis (index 14)."""
    j = np.arange(n)[:, None]
    return np.asarray(root, float) + np.hstack([30 * j - 420, 25 * j - 350, 10 * j - 140])


def test_muco_excerpt_and_person_selection(tmp_path):
    f, c = [1497.7, 1501.2], [1021.5, 1030.25]
    name = "augmented_set/1_0000.jpg"
    image(tmp_path / "data" / name, 2048, 2048)
    roots = {  # annotation index -> Pelvis (mm)
        0: [-250.0, 150.0, 4200.0],  # 70.7 mm from the nearest person in x-y (1202 mm in 3D): not selected
        1: [-300.0, 100.0, 3000.0],  # nearest: always selected, though another person is within 500 mm of it
        2: [1500.0, -200.0, 5000.0],  # at least 1785 mm from everyone in x-y and 3D: selected
    }
    boxes = {0: [700, 600, 101, 101], 1: [500, 300, 201, 401], 2: [1200, 400, 301, 201]}
    processed = {1: [350, 250, 500, 500], 2: [1162.5, 312.5, 375, 375]}  # by hand, §6.1
    anns = []
    for k, root in roots.items():
        cam = person(root, 21)
        anns.append(
            {"id": k, "image_id": 1, "bbox": boxes[k], "keypoints_cam": cam.tolist()}
            | {"keypoints_img": project(cam, f, c).tolist(), "keypoints_vis": [1] * 21}
        )
    image_entry = {"id": 1, "file_name": name, "width": 2048, "height": 2048, "f": f, "c": c}
    dump(tmp_path / "data" / "MuCo-3DHP.json", {"images": [image_entry], "annotations": anns})
    a = read_dataset("muco", tmp_path, "train")
    assert len(a) == 2
    assert sum(a.dropped.values()) == 1
    assert a.image_path(0) == tmp_path / "data" / name
    assert a.image_path(0).is_file()
    picked = {}
    for i in range(len(a)):
        k = next(k for k, root in roots.items() if np.abs(a.root_cam[i] - root).max() < MM)
        picked[k] = a.record(i)
    assert sorted(picked) == [1, 2]
    for k, r in picked.items():
        cam = person(roots[k], 21)
        assert np.abs(r.joints_cam - cam).max() < MM
        assert np.abs(r.joints_img[:, :2] - project(cam, f, c)).max() < PX
        assert r.joints_img[0, 2] == pytest.approx(-140.0, abs=MM)  # Head_top depth from the Pelvis, in mm
        assert r.joints_img[20, 2] == pytest.approx(60.0, abs=MM)
        assert np.allclose(r.focal, f)
        assert np.allclose(r.principal, c)
        assert r.joints_vis.all()
        assert np.abs(r.bbox - processed[k]).max() < PX
        assert np.abs(r.bbox_raw - boxes[k]).max() < PX


def mupots_folder(root):
    """Two images (TS1 at 2048x2048, TS20 at 1920x1080); TS1 holds one valid and one is_valid 0 person."""
    images = [
        {"id": 0, "file_name": "TS1/img_000000.jpg", "width": 2048, "height": 2048},
        {"id": 1, "file_name": "TS20/img_000123.jpg", "width": 1920, "height": 1080},
    ]
    images[0]["intrinsic"] = [1500.0, 1510.0, 1020.0, 1030.0]  # fx, fy, cx, cy
    images[1]["intrinsic"] = [1400.0, 1405.0, 960.0, 540.0]
    for img in images:
        image(root / "data" / "MultiPersonTestSet" / img["file_name"], img["width"], img["height"])
    people = [(0, 1, [0, 0, 4000], [900, 700, 101, 251]), (0, 0, [600, 0, 4500], [1300, 600, 90, 200])]
    people.append((1, 1, [800, 500, 3500], [1800, 900, 200, 300]))  # box clipped at the image corner
    anns = []
    for image_id, valid, root_mm, box in people:
        cam, intrinsic = person(root_mm, 17), images[image_id]["intrinsic"]
        anns.append(
            {"image_id": image_id, "is_valid": valid, "keypoints_cam": cam.tolist(), "bbox": box}
            | {"keypoints_img": project(cam, intrinsic[:2], intrinsic[2:]).tolist(), "keypoints_vis": [1] * 17}
        )
    dump(root / "data" / "MuPoTS-3D.json", {"images": images, "annotations": anns})
    return images, people


def test_mupots_excerpt_ground_truth(tmp_path):
    images, people = mupots_folder(tmp_path)
    a = read_dataset("mupots", tmp_path, "test")
    assert len(a) == 2
    assert a.dropped == {"is_valid 0": 1}
    processed = {0: [793.75, 668.75, 312.5, 312.5], 1: [1747.625, 877.625, 223.75, 223.75]}  # by hand, §6.1
    for i, (image_id, group, sequence) in enumerate([(0, "TS1", 1), (1, "TS20", 20)]):
        r = a.record(i)
        fx, fy, cx, cy = images[image_id]["intrinsic"]
        cam = person(next(p[2] for p in people if p[0] == image_id and p[1]), 17)
        assert (r.image_id, r.group, r.subject) == (image_id, group, sequence)
        assert np.allclose(r.focal, [fx, fy])
        assert np.allclose(r.principal, [cx, cy])
        assert np.abs(r.joints_cam - cam).max() < MM
        assert np.abs(r.root_cam - cam[14]).max() < MM
        assert np.abs(r.joints_img[:, :2] - project(cam, [fx, fy], [cx, cy])).max() < PX
        assert r.joints_img[0, 2] == pytest.approx(-140.0, abs=MM)
        assert r.joints_img[14, 2] == 0
        assert np.abs(r.bbox - processed[image_id]).max() < PX
        assert a.image_path(i) == tmp_path / "data" / "MultiPersonTestSet" / images[image_id]["file_name"]
        assert a.image_path(i).is_file()


def test_mupots_rootnet_boxes_roots_and_scores_are_taken_unchanged(tmp_path):
    mupots_folder(tmp_path)
    detections = [
        {"image_id": 0, "root_cam": [12.5, -3.25, 4012.0], "bbox": [-20.5, 640.0, 330.0, 330.0], "score": 0.97},
        {"image_id": 1, "root_cam": [805.0, 498.0, 3511.5], "bbox": [1740.0, 870.0, 240.0, 240.0], "score": 0.41},
    ]
    path = dump(tmp_path / "bbox_root" / "bbox_root_mupots_output.json", detections)
    a = read_dataset("mupots", tmp_path, "test", bbox_root=path)
    assert len(a) == 2
    assert not a.has_gt
    for i, det in enumerate(detections):
        assert np.abs(a.bbox[i] - det["bbox"]).max() < 1e-9
        assert np.abs(a.root_cam[i] - det["root_cam"]).max() < 1e-9
        assert a.scores[i] == pytest.approx(det["score"], abs=1e-6)
    assert np.allclose(a.focal[1], [1400, 1405])
    assert np.allclose(a.principal[1], [960, 540])
    assert a.group_names[a.group_codes[1]] == "TS20"
