"""Hostile inputs to ``mhp.Predictor`` and mhp-infer: tiny images, NaN/Inf and wrong arrays, bad boxes, focal
lengths and root depths, reduced decodes (3D unchanged), and videos with no, or missing, frames."""

import json
import re

import cv2
import numpy as np
import pytest

import mhp
from mhp import geometry, metrics
from mhp.cli.infer import main as infer_main
from mhp.data.synthetic import SyntheticHumans
from mhp.errors import MhpError
from mhp.infer.camera import Intrinsics
from mhp.infer.predictor import Predictor
from mhp.util import image_file
from mhp.util.image_file import read_image

IMAGE = np.random.default_rng(5).integers(0, 256, (120, 160, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """An untrained tiny LPSKI checkpoint: the geometry around the network is what is tested here."""
    path = tmp_path_factory.mktemp("model") / "tiny.pt"
    return mhp.save_checkpoint(path, mhp.create_model("LPSKI", width_mult=0.25, input_size=64))


@pytest.fixture(scope="module")
def predictor(model):
    return Predictor(model)


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.full((8, 8, 3), np.nan, np.float32), r"got float32 \(8, 8, 3\); floats in \[0, 1\]: \(image \* 255\)"),
        (np.full((8, 8, 3), np.inf), "got float64"),
        (np.zeros((8, 8, 3), np.uint16), "got uint16"),
        (np.zeros((8, 8), np.uint8), r"got uint8 \(8, 8\); grey-scale: np.stack"),
        (np.zeros((8, 8, 4), np.uint8), r"got uint8 \(8, 8, 4\); drop alpha: image\[..., :3\]"),
        (np.zeros((0, 8, 3), np.uint8), "the image is 8x0 pixels; the pose model needs at least 2x2"),
        (np.zeros((1, 1, 3), np.uint8), "the image is 1x1 pixels; the pose model needs at least 2x2"),
        ([[1, 2, 3]], "got int64"),
    ],
)
def test_images_that_are_not_rgb_uint8_are_refused(predictor, image, message):
    with pytest.raises(MhpError, match=message):
        predictor.predict(image)


def test_the_smallest_image_and_box_give_finite_results(predictor):
    """A 2x2 image still gives a pose that obeys the camera: joints inside the crop, 3D joints that project onto
    the 2D ones through the default 65-degree camera, and the root at RootNet's k-value depth, all computed here
    by hand (the test once checked only that the numbers were finite). Mutation tried: the principal point at
    ((W - 1) / 2, (H - 1) / 2) in mhp.infer.camera.default_intrinsics fails the projection check."""
    (person,) = predictor.predict(np.full((2, 2, 3), 200, np.uint8))
    assert np.isfinite(person.joints_cam_mm).all()
    x, y, side, _ = person.crop_box
    assert ((person.joints_img >= [x, y]) & (person.joints_img <= [x + side, y + side])).all()
    focal = 1.0 / np.tan(np.radians(65.0) / 2)  # half the longer side (1 px) over tan(FOV / 2)
    projected = person.joints_cam_mm[:, :2] / person.joints_cam_mm[:, 2:] * focal + 1.0  # principal point: centre
    np.testing.assert_allclose(projected, person.joints_img, atol=1e-4)
    assert person.root_depth_mm == pytest.approx(2000.0 * focal / side)  # sqrt(2000^2 fx fy / (w h)), w = h
    (person,) = predictor.predict(IMAGE, [[10, 10, 0.5, 40]])  # a sliver: widened to a square
    assert person.crop_box[2] == pytest.approx(39 * 1.25)
    with pytest.raises(MhpError, match=r"box \[10.0, 10.0, 1.0, 1.0\] covers less than 2 pixels of the 160x120"):
        predictor.predict(IMAGE, [[10, 10, 1, 1]])  # clipped to a point: no crop to cut


@pytest.mark.parametrize(
    ("boxes", "message"),
    [
        ([[10, 10, -20, 30]], r"box \[10.0, 10.0, -20.0, 30.0\] has a negative size; boxes are \[x, y, width, height"),
        ([[10, 10, 20, 0]], "has zero area"),
        ([[np.nan, 10, 20, 30]], "holds NaN or infinity"),
        ([[10, 10, np.inf, 30]], "holds NaN or infinity"),
        (np.array([[10, 10, 20, 30], [1, 2, 3, np.nan]]), r"box \[1.0, 2.0, 3.0, nan\] holds NaN"),
        ([[10, 10, 20]], r"is not \[x, y, w, h\] in pixels"),
        ([10, 10, 20, 30], r"boxes must be a list of \[x, y, w, h\] in pixels, one per person"),
        (7, "boxes must be a list"),
    ],
)
def test_bad_boxes_are_refused(predictor, boxes, message):
    with pytest.raises(MhpError, match=message):
        predictor.predict(IMAGE, boxes)


@pytest.mark.parametrize(
    ("focal", "principal", "message"),
    [
        ((np.nan, np.nan), (80, 60), r"intrinsics focal \(nan, nan\) must be two positive numbers \(pixels\)"),
        ((0, 0), (80, 60), "intrinsics focal .* must be two positive numbers"),
        ((-500, 500), (80, 60), "must be two positive numbers"),
        ((500, np.inf), (80, 60), "must be two positive numbers"),
        ((500, 500), (np.inf, 60), r"intrinsics principal \(inf, 60\) must be two finite numbers"),
        (500, (80, 60), "intrinsics focal 500 is not two numbers"),
    ],
)
def test_bad_intrinsics_are_refused_where_they_are_made(focal, principal, message):
    with pytest.raises(MhpError, match=message):
        Intrinsics(focal, principal, "given")


def test_bad_intrinsics_and_root_depths_are_refused_by_the_predictor(predictor):
    with pytest.raises(MhpError, match=r"intrinsics must be an mhp\.infer\.camera\.Intrinsics, got tuple"):
        predictor.predict(IMAGE, intrinsics=(500.0, 500.0))
    for depth in (np.nan, 0, -3000, np.inf, "far", [5000, np.nan], [1000, 2000]):
        with pytest.raises(MhpError, match=r"root_depth_mm .* must be one positive value \(mm\) or one per box \(1\)"):
            predictor.predict(IMAGE, root_depth_mm=depth)
    (person,) = predictor.predict(IMAGE, root_depth_mm=np.array(4000.0))
    assert person.root_depth_mm == 4000.0


def test_geometry_and_metrics_refuse_nan_rather_than_return_it():
    joints = np.zeros((2, 18, 3))
    broken = joints.copy()
    broken[1, 4, 2] = np.nan
    with pytest.raises(MhpError, match="similarity_align got NaN or infinite coordinates"):
        geometry.similarity_align(broken, joints)
    with pytest.raises(MhpError, match="similarity_align needs two"):
        geometry.similarity_align(joints, joints[:1])
    with pytest.raises(MhpError, match="metrics got NaN or infinite coordinates"):
        metrics.pa_mpjpe(broken, joints)
    for box, focal in (([0, 0, 0, 10], (500, 500)), ([0, 0, 10, 10], (np.nan, 500)), ([0, 0, -10, -10], (1, 1))):
        with pytest.raises(MhpError, match="the k-value depth needs a positive box size"):
            geometry.root_depth_from_bbox(box, focal)
    assert geometry.process_bbox([np.nan, 0, 10, 10], 100, 100) is None
    assert geometry.process_bbox([0, 0, np.inf, 10], 100, 100) is None


@pytest.fixture(scope="module")
def scene_jpeg(tmp_path_factory):
    """A 1024 x 768 JPEG of a synthetic person and the person's box."""
    scenes = SyntheticHumans(2, seed=11, image_size=(1024, 768))
    path = tmp_path_factory.mktemp("scene") / "person.jpg"
    cv2.imwrite(str(path), scenes.load_image(0), [cv2.IMWRITE_JPEG_QUALITY, 95])
    return path, scenes.record(0).bbox_raw.tolist()


@pytest.mark.parametrize("scale", [2, 4])
def test_a_reduced_decode_gives_the_same_pose_in_the_original_pixels(predictor, scene_jpeg, scale):
    path, box = scene_jpeg
    whole = read_image(path)
    reduced = read_image(path, max_pixels=1024 * 768 // scale**2)
    assert (reduced.scale, reduced.width, reduced.height) == (scale, 1024, 768)
    intrinsics = Intrinsics((1200.0, 1200.0), (512.0, 384.0), "given")
    for boxes in ([box], None):
        (full,) = predictor.predict(whole, boxes, intrinsics)
        (small,) = predictor.predict(reduced, boxes, intrinsics)
        np.testing.assert_allclose(small.crop_box, full.crop_box)
        assert small.root_depth_mm == full.root_depth_mm  # k-value: original box and focal
        crop_full, crop_small = predictor.crop(whole, full.box)[0], predictor.crop(reduced, full.box)[0]
        assert np.abs(crop_full.astype(float) - crop_small).mean() < 4  # the same crop, resampled
        np.testing.assert_allclose(small.joints_img, full.joints_img, atol=0.5)
        np.testing.assert_allclose(small.joints_cam_mm, full.joints_cam_mm, atol=5.0)


def run_infer(argv: list[str], capsys) -> tuple[int, str]:
    """mhp-infer's exit code and stderr, without its progress bar."""
    code = infer_main([*argv, "--no-plot"])
    return code, re.sub(r"\r?\[[#-]+\] frame \d+/\d+", "", capsys.readouterr().err).strip()


def test_mhp_infer_reports_a_reduced_decode_in_original_pixels(model, scene_jpeg, tmp_path, monkeypatch, capsys):
    path, box = scene_jpeg
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps([box]))
    argv = [str(path), "--model", str(model), "--boxes", str(boxes), "--focal", "1200"]
    assert run_infer([*argv, "--out", str(tmp_path / "whole")], capsys)[0] == 0
    monkeypatch.setattr(image_file, "MAX_PIXELS", 300_000)
    code, err = run_infer([*argv, "--out", str(tmp_path / "reduced")], capsys)
    assert code == 0
    assert f"{path}: 1024x768 is over the 0 MP limit: decoded at 1/2 scale (512x384)" in err
    whole, reduced = (json.loads((tmp_path / f / "person.json").read_text()) for f in ("whole", "reduced"))
    assert whole["decode"] == {"scale": 1.0, "size_px": [1024, 768]}
    assert reduced["decode"] == {"scale": 0.5, "size_px": [512, 384]}
    assert reduced["image_size_px"] == whole["image_size_px"] == [1024, 768]
    assert reduced["intrinsics"] == whole["intrinsics"]
    (full,), (small,) = whole["frames"][0]["people"], reduced["frames"][0]["people"]
    assert small["box_xywh_px"] == full["box_xywh_px"] == [round(v, 2) for v in box]
    np.testing.assert_allclose(small["joints_img_px"], full["joints_img_px"], atol=0.5)
    np.testing.assert_allclose(small["joints_cam_mm"], full["joints_cam_mm"], atol=5.0)
    assert cv2.imread(str(tmp_path / "reduced" / "person_overlay.jpg")).shape == (384, 512, 3)


def write_video(path, frames: int, fourcc: str = "mp4v") -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 12.0, (64, 48))
    for i in range(frames):
        writer.write(np.full((48, 64, 3), 8 * i, np.uint8))
    writer.release()


def test_mhp_infer_gives_one_line_errors_for_hostile_files(model, tmp_path, monkeypatch, capsys):
    cv2.imwrite(str(tmp_path / "one.png"), np.zeros((1, 1, 3), np.uint8))
    jpeg = cv2.imencode(".jpg", IMAGE)[1].tobytes()
    (tmp_path / "cut.jpg").write_bytes(jpeg[:-100])
    (tmp_path / "bomb.png").write_bytes(cv2.imencode(".png", IMAGE)[1].tobytes())
    (tmp_path / "negative.json").write_text("[[10, 10, -30, 40]]")
    write_video(tmp_path / "no_frames.mp4", 0)
    (tmp_path / "empty.mp4").write_bytes(b"")
    write_video(tmp_path / "whole.mp4", 20)
    whole = (tmp_path / "whole.mp4").read_bytes()
    (tmp_path / "cut.mp4").write_bytes(whole[: len(whole) // 2])  # the index (moov) is at the end: gone
    write_video(tmp_path / "whole.avi", 20, "MJPG")
    avi = (tmp_path / "whole.avi").read_bytes()
    (tmp_path / "cut.avi").write_bytes(avi[: len(avi) * 8 // 10])  # its header still declares 20 frames
    image = str(tmp_path / "whole.png")
    cv2.imwrite(image, IMAGE)
    cases = [
        (["one.png"], f"error: {tmp_path / 'one.png'}: the image is 1x1 pixels; the pose model needs at least 2x2"),
        (["cut.jpg"], f"error: {tmp_path / 'cut.jpg'} is a truncated JPEG (it ends before its end-of-image marker)"),
        ([image, "--boxes", str(tmp_path / "negative.json")], "box [10.0, 10.0, -30.0, 40.0] has a negative size"),
        (["no_frames.mp4"], "not a video OpenCV can decode, or it has no frames"),
        (["empty.mp4"], "not a video OpenCV can decode, or it has no frames"),
        (["cut.mp4"], "not a video OpenCV can decode, or it has no frames"),
        (["cut.avi"], "of the 20 frames its header declares: a truncated video; copy it again"),
    ]

    def refused(argv: list[str], message: str) -> None:
        out = tmp_path / "out"
        code, err = run_infer([str(tmp_path / argv[0]), *argv[1:], "--model", str(model), "--out", str(out)], capsys)
        assert code == 1, argv
        assert err.startswith("error: "), err
        assert message in err, (argv, err)
        assert len(err.splitlines()) == 1, (argv, err)
        assert not any(out.iterdir()), list(out.iterdir())  # nothing written, not even a temporary file

    for argv, message in cases:
        refused(argv, message)
    monkeypatch.setattr(image_file, "MAX_PIXELS", 64 * 48 - 1)
    refused(["whole.avi"], "has 64x48 frames, over the 0 MP limit; downscale it")
    monkeypatch.setattr(image_file, "MAX_PIXELS", 160 * 120 - 1)
    refused(["bomb.png"], "is 160x120 (0 MP), over the 0 MP limit; downscale it, or convert it to JPEG")
