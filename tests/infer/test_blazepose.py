"""The bundled person detector: MediaPipe's anchors, decoding, weighted suppression and letterbox, checked by hand,
and the real model on real photos (Debian's opencv-doc) against boxes labelled by hand."""

import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from mhp.errors import MhpError
from mhp.infer.blazepose import (
    BUNDLED,
    NUM_ANCHORS,
    BlazePoseDetector,
    Detection,
    body_box,
    clip_box,
    decode,
    detections_from_outputs,
    image_tiles,
    lean_deg,
    letterbox,
    merge,
    one_per_body,
    region_of,
    remove_letterbox,
    shifted,
    ssd_anchors,
    weighted_suppression,
)

PHOTOS = Path(__file__).resolve().parents[2] / ".tools" / "opencv-doc"
ON_CI = os.environ.get("CI") == "true"
# People at least half visible, labelled by hand as [x, y, w, h] from the top of the hair to the lowest visible
# point and from hand to hand (basketball1's man on the right is cut at the waist: less than half of him shows).
PEOPLE = {
    "basketball1.png": [[35, 80, 132, 398]],
    "basketball2.png": [[38, 78, 137, 400], [430, 25, 210, 455]],
    "messi5.jpg": [[70, 62, 388, 274]],
    "fruits.jpg": [],
    "box.png": [],
    "starry_night.jpg": [],
}


def test_anchors_follow_the_pose_detection_graph():
    anchors = ssd_anchors()
    assert anchors.shape == (NUM_ANCHORS, 2) == (28 * 28 * 2 + 14 * 14 * 2 + 7 * 7 * 6, 2)
    np.testing.assert_allclose(anchors[0], [0.5 / 28, 0.5 / 28])
    np.testing.assert_allclose(anchors[1], anchors[0])  # two anchors per cell on the stride-8 layer
    np.testing.assert_allclose(anchors[2], [1.5 / 28, 0.5 / 28])  # x runs fastest
    np.testing.assert_allclose(anchors[28 * 2], [0.5 / 28, 1.5 / 28])
    np.testing.assert_allclose(anchors[1568], [0.5 / 14, 0.5 / 14])  # the stride-16 layer starts
    np.testing.assert_allclose(anchors[1568 + 392], [0.5 / 7, 0.5 / 7])  # the three stride-32 layers, merged
    np.testing.assert_allclose(anchors[1568 + 392 + 5], [0.5 / 7, 0.5 / 7])  # six anchors in that cell
    np.testing.assert_allclose(anchors[-1], [6.5 / 7, 6.5 / 7])


def test_decoding_is_relative_to_the_anchor_in_input_pixels():
    anchors = ssd_anchors()
    raw = np.zeros((NUM_ANCHORS, 12))
    logits = np.full((NUM_ANCHORS, 1), -50.0)
    k = 1568 + 3 * 2  # stride-16 cell (3, 0): centre (3.5 / 14, 0.5 / 14)
    raw[k, :4] = [22.4, -11.2, 44.8, 89.6]  # x, y offsets, then w, h (x first: reverse_output_order)
    raw[k, 4:] = [0, 0, 11.2, 0, 0, 22.4, -5.6, -5.6]
    logits[k] = 2.0
    scores, boxes, keypoints = decode(raw, logits, anchors, min_score=0.5)
    assert scores == pytest.approx([1 / (1 + np.exp(-2.0))])
    centre = np.array([3.5 / 14 + 0.1, 0.5 / 14 - 0.05])
    half = np.array([0.1, 0.2])  # w / 2, h / 2
    np.testing.assert_allclose(boxes[0], np.concatenate([centre - half, centre + half]))
    anchor = np.array([3.5 / 14, 0.5 / 14])
    np.testing.assert_allclose(keypoints[0], anchor + np.array([[0, 0], [0.05, 0], [0, 0.1], [-0.025, -0.025]]))
    logits[k] = 1e6  # clipped to 100 before the sigmoid: no overflow
    assert decode(raw, logits, anchors, min_score=0.5)[0] == pytest.approx([1.0])
    assert len(decode(raw, np.full((NUM_ANCHORS, 1), -1.4), anchors, min_score=0.2)[0]) == 0  # sigmoid 0.198


def test_weighted_suppression_merges_overlaps_and_keeps_the_rest():
    boxes = np.array([[0.0, 0.0, 1.0, 1.0], [0.1, 0.0, 1.1, 1.0], [3.0, 3.0, 4.0, 4.0]])
    keypoints = np.stack([np.full((4, 2), v) for v in (0.0, 1.0, 9.0)])
    merged = weighted_suppression(np.array([0.6, 0.9, 0.7]), boxes, keypoints)
    assert [score for score, _, _ in merged] == [0.9, 0.7]  # best first, the group keeps its best score
    np.testing.assert_allclose(merged[0][1], (0.6 * boxes[0] + 0.9 * boxes[1]) / 1.5)
    np.testing.assert_allclose(merged[0][2], np.full((4, 2), 0.9 / 1.5))
    np.testing.assert_allclose(merged[1][1], boxes[2])
    apart = np.array([[0.0, 0.0, 1.0, 1.0], [0.6, 0.0, 1.6, 1.0]])  # IoU 0.4 / 1.6 = 0.25: below 0.3, both kept
    assert len(weighted_suppression(np.array([0.9, 0.8]), apart, keypoints[:2])) == 2
    point = np.array([[0.5, 0.5, 0.5, 0.5]])  # an empty box overlaps nothing, not even itself: still one detection
    assert len(weighted_suppression(np.array([0.9]), point, keypoints[:1])) == 1


def test_the_letterbox_keeps_the_aspect_and_maps_points_back():
    image = np.zeros((480, 640, 3), np.uint8)
    image[100, 200] = 255
    tensor, padding = letterbox(image)
    assert tensor.shape == (1, 224, 224, 3)
    assert np.all(tensor[0, :28] == -1) and np.all(tensor[0, -28:] == -1)  # noqa: PT018 (zero pixels: BORDER_ZERO)
    np.testing.assert_allclose(padding, [0, 28 / 224, 0, 28 / 224])
    row, col = np.unravel_index(tensor[0, ..., 0].argmax(), (224, 224))
    assert (col, row) == (70, 63)  # 200 * 0.35, 100 * 0.35 + 28: the white pixel's place
    portrait = letterbox(np.full((640, 480, 3), 255, np.uint8))
    np.testing.assert_allclose(portrait[1], [28 / 224, 0, 28 / 224, 0])
    assert portrait[0][0, 100, 30].tolist() == [1.0, 1.0, 1.0] and portrait[0][0, 100, 20, 0] == -1.0  # noqa: PT018
    on_input = np.array([200 * 0.35 / 224, (28 + 100 * 0.35) / 224])  # the pixel, scaled by 224 / 640
    np.testing.assert_allclose(remove_letterbox(on_input, padding) * [640, 480], [200, 100], atol=1e-9)


def test_detections_come_back_in_image_pixels():
    raw = np.zeros((NUM_ANCHORS, 12))
    logits = np.full((NUM_ANCHORS, 1), -50.0)
    logits[0] = 5.0  # anchor (0.5 / 28, 0.5 / 28): a zero-size box and keypoints there
    _, padding = letterbox(np.zeros((480, 640, 3), np.uint8))
    (person,) = detections_from_outputs(raw, logits, padding, (640, 480), min_score=0.5)
    expected = remove_letterbox(np.array([0.5 / 28, 0.5 / 28]), padding) * [640, 480]
    np.testing.assert_allclose(person.box[:2], expected)
    np.testing.assert_allclose(person.keypoints, np.tile(expected, (4, 1)))


def test_a_detection_holding_nan_is_nobody():
    raw = np.zeros((NUM_ANCHORS, 12))
    logits = np.full((NUM_ANCHORS, 1), -50.0)
    logits[[0, 2000]] = 5.0
    raw[2000, 5] = np.nan  # a keypoint the model got wrong
    _, padding = letterbox(np.zeros((480, 640, 3), np.uint8))
    (person,) = detections_from_outputs(raw, logits, padding, (640, 480), min_score=0.5)
    assert np.isfinite(person.keypoints).all()


def test_the_body_box_is_the_scaled_square_around_the_body_circle_and_the_region_encloses_it():
    detection = Detection(0.9, np.zeros(4), np.array([[100.0, 200.0], [100.0, 120.0], [0, 0], [0, 0]]))
    np.testing.assert_allclose(body_box(detection, margin=1.0), [20, 120, 160, 160])  # the circle's square
    np.testing.assert_allclose(body_box(detection), [32, 132, 136, 136])  # the crop's: 0.85 of it
    np.testing.assert_allclose(region_of(body_box(detection)), [0, 100, 200, 200])  # MediaPipe's: 1.25 of it
    np.testing.assert_allclose(clip_box(np.array([-10.0, 100, 200, 200]), 150, 250), [0, 100, 150, 150])
    np.testing.assert_allclose(clip_box(np.array([10.0, 20, 30, 40]), 150, 250), [10, 20, 30, 40])


def test_a_crop_turned_by_the_lean_stands_the_person_upright():
    from mhp.geometry import apply_affine, bbox_crop_affine, process_bbox

    hip, turn = np.array([300.0, 200.0]), np.radians(30)
    head = hip + 80 * np.array([np.sin(turn), -np.cos(turn)])  # leaning 30 degrees to the right
    detection = Detection(0.9, np.zeros(4), np.array([hip, head, hip, hip]))
    assert lean_deg(detection) == pytest.approx(30)
    affine = bbox_crop_affine(process_bbox(body_box(detection), 640, 480), (256, 256), rotation_deg=lean_deg(detection))
    (hip_crop, head_crop) = apply_affine(np.array([[*hip, 0], [*head, 0]]), affine)[:, :2]
    np.testing.assert_allclose(hip_crop, [128, 128], atol=1.5)  # process_bbox's pixel conventions
    assert head_crop[0] == pytest.approx(hip_crop[0])  # straight above the hip
    assert head_crop[1] < hip_crop[1] - 50


def test_one_body_seen_twice_is_one_person_and_two_bodies_are_two():
    def person(score, hip, body):  # keypoints: the hip, the body point; face box and upper body unused
        return Detection(score, np.zeros(4), np.array([hip, body, hip, hip], np.float64))

    upright = person(0.9, (100, 200), (100, 120))
    inverted = person(0.6, (104, 206), (104, 276))  # body boxes overlap by IoU 0.75
    assert one_per_body([inverted, upright]) == [upright]
    beside = person(0.7, (200, 200), (200, 120))  # IoU 0.14
    assert one_per_body([beside, upright]) == [upright, beside]


def test_a_missing_or_foreign_detector_file_is_one_line(tmp_path):
    with pytest.raises(MhpError, match=r"person detector .*nothing.tflite is missing; check the path"):
        BlazePoseDetector(tmp_path / "nothing.tflite")
    other = tmp_path / "other.tflite"
    other.write_bytes(b"not the detector")
    with pytest.raises(MhpError, match=r"is not MediaPipe 0.10.21's pose_detection.tflite .*make detector"):
        BlazePoseDetector(other)


def covered(box: np.ndarray, person: list[float]) -> float:
    """The share of ``person`` inside ``box`` (both ``[x, y, w, h]``)."""
    low = np.maximum(box[:2], person[:2])
    high = np.minimum(box[:2] + box[2:], np.add(person[:2], person[2:]))
    return float(np.prod(np.clip(high - low, 0, None)) / (person[2] * person[3]))


@pytest.fixture(scope="module")
def real_detector():
    if not (BUNDLED.is_file() and (PHOTOS / ".done").is_file()):
        if ON_CI:
            pytest.fail(f"{BUNDLED} or {PHOTOS} is missing on CI: make test runs make detector photos")
        pytest.skip("run make detector photos for the real-photo tests")
    return BlazePoseDetector()


@pytest.mark.parametrize("name", sorted(PEOPLE))
def test_every_labelled_person_is_found_and_nobody_else(real_detector, name):
    image = cv2.imread(str(PHOTOS / name))[..., ::-1].copy()
    boxes = [clip_box(region_of(box), image.shape[1], image.shape[0]) for box in real_detector(image)]
    assert len(boxes) == len(PEOPLE[name])  # one box per person; none on the photos without people
    for person in PEOPLE[name]:
        best = max(boxes, key=lambda box: covered(box, person))
        assert covered(best, person) >= 0.8  # measured 0.91-1.0
        assert best[2] * best[3] <= 3 * person[2] * person[3]  # measured 1.0-2.6x


def test_mhp_infer_writes_one_record_per_person_and_none_for_an_empty_photo(real_detector, small_relu_export, tmp_path):
    from mhp.cli.infer import main as infer_main

    model = str(small_relu_export[0] / "lpski_int8.tflite")
    for name, people in (("basketball2.png", 2), ("fruits.jpg", 0)):
        out = tmp_path / name
        assert infer_main([str(PHOTOS / name), "--model", model, "--out", str(out), "--no-plot"]) == 0
        (frame,) = json.loads((out / f"{Path(name).stem}.json").read_text())["frames"]
        assert len(frame["people"]) == people
        assert frame["box_source"] == ("detector" if people else "detector: nobody here")
        records = sorted(frame["people"], key=lambda r: r["box_xywh_px"][0])
        for record, person in zip(records, PEOPLE[name], strict=True):
            box, region = np.array(record["box_xywh_px"]), np.array(record["region_xywh_px"])
            assert covered(box, person) >= 0.8
            assert box[2] * box[3] <= 3 * person[2] * person[3]
            np.testing.assert_allclose(box, clip_box(region, 640, 480), atol=0.01)
            assert record["crop_rotation_deg"] == 0  # leans of 6 and -14 degrees: upright enough for the model
    drawn = cv2.imread(str(tmp_path / "fruits.jpg" / "fruits_overlay.jpg")).astype(float)
    original = cv2.imread(str(PHOTOS / "fruits.jpg")).astype(float)
    assert np.abs(drawn - original).mean() < 2.0  # JPEG noise only: no skeleton, no box drawn


def test_a_video_without_people_has_no_person_in_any_frame(real_detector, small_relu_export, tmp_path):
    from mhp.cli.infer import main as infer_main

    still = cv2.imread(str(PHOTOS / "fruits.jpg"))
    clip = tmp_path / "fruits.mp4"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (still.shape[1], still.shape[0]))
    for _ in range(3):
        writer.write(still)
    writer.release()
    model = str(small_relu_export[0] / "lpski_fp32.onnx")
    assert infer_main([str(clip), "--model", model, "--out", str(tmp_path / "out"), "--no-plot"]) == 0
    frames = json.loads((tmp_path / "out" / "fruits.json").read_text())["frames"]
    assert [(f["box_source"], f["people"]) for f in frames] == [("detector: nobody here", [])] * 3


def test_a_person_lying_down_is_cut_upright_unless_told_not_to(real_detector, small_relu_export, tmp_path):
    from mhp.cli.infer import main as infer_main

    lying = tmp_path / "lying.png"  # basketball1 turned a quarter clockwise: the man lies with his head to the right
    cv2.imwrite(str(lying), cv2.rotate(cv2.imread(str(PHOTOS / "basketball1.png")), cv2.ROTATE_90_CLOCKWISE))
    model = str(small_relu_export[0] / "lpski_int8.tflite")
    turns = {}
    for flags in ([], ["--no-upright"]):
        out = tmp_path / ("turned" if not flags else "upright")
        assert infer_main([str(lying), "--model", model, "--out", str(out), "--no-plot", "--no-overlay", *flags]) == 0
        (person,) = json.loads((out / "lying.json").read_text())["frames"][0]["people"]
        turns[bool(flags)] = person["crop_rotation_deg"]
    assert turns[False] == pytest.approx(90, abs=10)  # measured 87
    assert turns[True] == 0


# vtest.avi: the man in black walking left in the clear, labelled by hand (head top to soles, foot to foot)
WALKER = {0: [639, 241, 44, 79], 10: [548, 239, 37, 86], 20: [438, 233, 42, 85]}


def test_a_pedestrian_keeps_one_track_id_through_a_real_clip(real_detector, small_relu_export, tmp_path):
    from mhp.cli.infer import main as infer_main

    model = str(small_relu_export[0] / "lpski_fp32.onnx")
    argv = [str(PHOTOS / "vtest.avi"), "--model", model, "--out", str(tmp_path), "--no-plot", "--no-overlay"]
    assert infer_main([*argv, "--detector-tiles", "3", "--max-frames", "21"]) == 0
    frames = json.loads((tmp_path / "vtest.json").read_text())["frames"]
    ids = []
    for index, walker in WALKER.items():
        best = max(frames[index]["people"], key=lambda p: covered(np.array(p["box_xywh_px"]), walker))
        assert covered(np.array(best["box_xywh_px"]), walker) >= 0.8
        ids.append(best["track_id"])
    assert len(set(ids)) == 1  # found in each labelled frame, under one id (the detector misses him in 3 of 21)


def test_tiles_cover_the_image_and_their_duplicates_merge():
    image = np.zeros((576, 768, 3), np.uint8)
    tiles = image_tiles(image, 3)
    assert len(tiles) == 9
    seen = np.zeros(image.shape[:2], bool)
    for (x, y), tile in tiles:
        seen[y : y + tile.shape[0], x : x + tile.shape[1]] = True
        assert tile.shape[:2] == pytest.approx((576 / 2.5, 768 / 2.5), abs=1)
    assert seen.all()  # every pixel in some tile
    person = Detection(0.8, np.array([10.0, 20.0, 30.0, 30.0]), np.array([[15.0, 60.0], [15.0, 0.0], [0, 0], [0, 0]]))
    moved = shifted(person, 230, 100)
    np.testing.assert_allclose(moved.box, [240, 120, 30, 30])
    np.testing.assert_allclose(moved.keypoints[0], [245, 160])
    nudge = np.array([2.0, 0.0])
    twice = Detection(0.9, moved.box + np.append(nudge, [0, 0]), moved.keypoints + nudge)  # seen from two tiles
    (one,) = merge([moved, twice])
    assert one.score == 0.9
    np.testing.assert_allclose(one.box[0], (0.8 * 240 + 0.9 * 242) / 1.7)
