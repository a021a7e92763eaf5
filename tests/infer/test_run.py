"""mhp-infer on an image, a folder and a video: JSON per frame, overlays, 3D plots, tracking, frame rate kept;
and one-line errors for bad input."""

import itertools
import json

import cv2
import numpy as np
import pytest

from mhp.cli.infer import main as infer_main
from mhp.data.synthetic import SyntheticHumans
from mhp.infer.boxes import box_from_joints, centred_box
from tests.infer.test_detector import write_constant_detector

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

PEOPLE_KEYS = {
    "box_xywh_px",
    "crop_box_xywh_px",
    "crop_rotation_deg",
    "joints_img_px",
    "confidence",
    "joints_rel_mm",
    "joints_cam_mm",
    "root_depth_mm",
    "root_depth_source",
}


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    folder = tmp_path_factory.mktemp("media")
    scenes = SyntheticHumans(10, seed=7, image_size=(256, 192))
    images = folder / "images"
    images.mkdir()
    for i in range(3):
        cv2.imwrite(str(images / f"scene{i}.png"), scenes.load_image(i))
    writer = cv2.VideoWriter(str(folder / "clip.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 12.0, (256, 192))
    for i in range(10):
        writer.write(scenes.load_image(i))
    writer.release()
    boxes = {f"scene{i}.png": [scenes.record(i).bbox_raw.tolist()] for i in range(2)}
    (folder / "boxes.json").write_text(json.dumps(boxes))
    return folder


def assert_joints_drawn_where_the_json_says(overlay_path, image_path, person):
    """Something is drawn over the input at each joint the JSON gives, and nothing far from every joint and box
    (the test once checked only the file's size). Mutation tried: the skeleton drawn at (y, x) (joints_img
    reversed at the top of mhp.infer.draw.draw_skeleton) fails it."""
    overlay = cv2.imread(str(overlay_path)).astype(int)
    drawn = np.abs(overlay - cv2.imread(str(image_path)).astype(int)).sum(axis=2) > 90  # JPEG noise stays below
    points = np.round(np.asarray(person["joints_img_px"])).astype(int)
    h, w = drawn.shape
    inside = [(x, y) for x, y in points if 1 <= x < w - 1 and 1 <= y < h - 1]
    assert len(inside) >= 12
    assert np.mean([drawn[y - 1 : y + 2, x - 1 : x + 2].any() for x, y in inside]) >= 0.9
    near = np.zeros_like(drawn, np.uint8)
    for x, y in points:
        cv2.circle(near, (int(x), int(y)), 8, 1, -1)
    bx, by, bw, bh = np.round(person["box_xywh_px"]).astype(int)
    near[max(by - 3, 0) : by + bh + 4, max(bx - 3, 0) : bx + bw + 4] = 1  # the box and the bones inside it
    assert drawn[near == 0].mean() < 0.01


def test_images_give_json_overlay_and_3d_plot(small_relu_export, media, tmp_path):
    export, _ = small_relu_export
    out = tmp_path / "out"
    argv = [str(media / "images"), "--model", str(export / "lpski_int8.tflite"), "--boxes", str(media / "boxes.json")]
    assert infer_main([*argv, "--out", str(out), "--focal", "300", "--detector", "none"]) == 0
    for i in range(3):
        document = json.loads((out / f"scene{i}.json").read_text())
        assert document["format_name"] == "mhp-infer"
        assert document["kind"] == "image"
        assert document["intrinsics"] == {"focal_px": [300.0, 300.0], "principal_px": [128.0, 96.0], "source": "given"}
        frame = document["frames"][0]
        assert frame["box_source"] == ("given" if i < 2 else "centred (no boxes given, --detector none)")
        (person,) = frame["people"]
        assert set(person) == PEOPLE_KEYS
        assert np.asarray(person["joints_cam_mm"]).shape == (18, 3)
        overlay = out / f"scene{i}_overlay.jpg"
        assert_joints_drawn_where_the_json_says(overlay, media / "images" / f"scene{i}.png", person)
        assert (out / f"scene{i}_3d.png").read_bytes()[:4] == b"\x89PNG"
    detected = tmp_path / "detected"
    declaration = write_constant_detector(tmp_path)
    image = str(media / "images" / "scene2.png")
    assert infer_main([image, "--model", argv[2], "--detector", str(declaration), "--out", str(detected)]) == 0
    frame = json.loads((detected / "scene2.json").read_text())["frames"][0]
    assert frame["box_source"] == "detector"
    np.testing.assert_allclose(frame["people"][0]["box_xywh_px"], [16, 12, 64, 48])  # 64x64 -> 256x192


def test_video_keeps_its_frame_rate_and_tracks_the_person(small_relu_export, media, tmp_path):
    export, _ = small_relu_export
    out = tmp_path / "out"
    argv = [str(media / "clip.mp4"), "--model", str(export / "lpski_fp32.onnx"), "--out", str(out), "--no-smooth"]
    assert infer_main([*argv, "--detector", "none"]) == 0  # the tracker alone, from the centred box
    document = json.loads((out / "clip.json").read_text())
    assert document["kind"] == "video"
    assert document["fps"] == pytest.approx(12.0)
    frames = document["frames"]
    assert [f["index"] for f in frames] == list(range(10))
    assert frames[1]["time_s"] == pytest.approx(1 / 12, abs=1e-4)
    np.testing.assert_allclose(frames[0]["people"][0]["box_xywh_px"], centred_box(256, 192), atol=0.01)
    for previous, frame in itertools.pairwise(frames):  # each box comes from the previous joints
        joints = np.asarray(previous["people"][0]["joints_img_px"])
        lost = previous["box_source"] != "tracked"
        expected = centred_box(256, 192) if lost else box_from_joints(joints)
        np.testing.assert_allclose(frame["people"][0]["box_xywh_px"], expected, atol=0.02)
    video = cv2.VideoCapture(str(out / "clip_overlay.mp4"))
    assert video.get(cv2.CAP_PROP_FPS) == pytest.approx(12.0)
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == 10
    video.release()
    assert (out / "clip_3d.png").is_file()
    assert not list(out.glob(".*"))  # no temporary files left
    smooth = tmp_path / "smooth"
    assert infer_main([*argv[:3], "--max-frames", "4", "--out", str(smooth)]) == 0
    assert len(json.loads((smooth / "clip.json").read_text())["frames"]) == 4


def test_bad_input_is_one_line(small_relu_export, media, tmp_path, capsys):
    export, _ = small_relu_export
    model = str(export / "lpski_int8.tflite")
    corrupt = tmp_path / "broken.jpg"
    corrupt.write_bytes(b"\xff\xd8 not really a jpeg")
    bad_video = tmp_path / "broken.mp4"
    bad_video.write_bytes(b"\x00" * 100)
    zero, outside = tmp_path / "zero.json", tmp_path / "outside.json"
    zero.write_text("[[10, 10, 0, 40]]")
    outside.write_text("[[900, 10, 40, 40]]")
    image = str(media / "images" / "scene0.png")
    cases = [
        ([str(corrupt), "--model", model], "not an image, or a corrupt one"),
        ([str(bad_video), "--model", model], "not a video OpenCV can decode"),
        ([image, "--model", model, "--boxes", str(zero)], "zero area"),
        ([image, "--model", model, "--boxes", str(outside)], "entirely outside the 256x192 image"),
        ([image, "--model", str(tmp_path / "none.tflite")], "does not exist"),
        ([str(tmp_path / "none.jpg"), "--model", model], "does not exist"),
        ([image], "--model"),
        ([image, "--model", model, "--fov", "0"], "--fov must be at least 1, got 0.0"),
    ]
    for argv, message in cases:
        assert infer_main([*argv, "--out", str(tmp_path / "out")]) == 1, argv
        err = capsys.readouterr().err.strip()
        assert message in err, (argv, err)
        assert len(err.splitlines()) == 1, (argv, err)


def test_video_people_keep_their_track_id_with_the_detector(small_relu_export, media, tmp_path):
    export, _ = small_relu_export
    out = tmp_path / "out"
    argv = [str(media / "clip.mp4"), "--model", str(export / "lpski_fp32.onnx"), "--out", str(out), "--no-plot"]
    assert infer_main(argv) == 0  # the bundled detector finds the synthetic person
    frames = json.loads((out / "clip.json").read_text())["frames"]
    ids = {person["track_id"] for frame in frames for person in frame["people"]}
    assert len(ids) >= 1
    assert all(frame["box_source"] in ("tracked", "detector: nobody here") for frame in frames)
    assert all(len(frame["people"]) <= 1 for frame in frames)  # one person in the clip: never two at once
