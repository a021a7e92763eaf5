"""``mhp-infer`` end to end: inputs -> boxes -> Predictor -> smoothing -> JSON per frame, overlays, 3D plots."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from mhp.config import InferConfig
from mhp.errors import BatchError, DiskFullError, MhpError
from mhp.infer.blazepose import BlazePoseDetector, body_box, clip_box, crop_turn, region_of
from mhp.infer.boxes import BoxTracker, boxes_for, check_box_keys, read_boxes
from mhp.infer.camera import Intrinsics, default_intrinsics, exif_intrinsics, intrinsics_from_focal
from mhp.infer.detector import ModelDetector, PersonDetector, read_detector_spec
from mhp.infer.draw import draw_box, draw_skeleton, plot_3d, track_colour
from mhp.infer.media import VideoReader, VideoWriter, folder_images, input_kind, write_image
from mhp.infer.predictor import PersonPose, Predictor, warn_failed_gate
from mhp.infer.smoothing import OneEuroFilter
from mhp.infer.tracking import Tracks
from mhp.util import image_file
from mhp.util.fileio import writable_folder, write_json
from mhp.util.image_file import DecodedImage, read_image
from mhp.util.optional import MissingDependencyError
from mhp.util.progress import bar

FORMAT, VERSION = "mhp-infer", 1
NOBODY = "detector: nobody here"  # no person is written or drawn


def camera_for(cfg: InferConfig, width: int, height: int, image_path: Path | None) -> Intrinsics:
    if cfg.focal is not None:
        return intrinsics_from_focal(width, height, cfg.focal)
    exif = exif_intrinsics(image_path, width, height) if image_path is not None else None
    return exif or default_intrinsics(width, height, cfg.fov)


def result_document(cfg: InferConfig, predictor: Predictor, kind: str, size, intrinsics: Intrinsics) -> dict:
    return {
        "format_name": FORMAT,
        "version": VERSION,
        "input": cfg.input,
        "kind": kind,
        "model": cfg.model,
        "runtime": predictor.name,
        "model_gate": predictor.gate,
        "image_size_px": list(size),
        "intrinsics": intrinsics.to_dict(),
        "joints": {k: predictor.joints[k] for k in ("names", "bones", "root")},
        "frames": [],
    }


def overlay(
    image: np.ndarray, people: list[PersonPose], predictor: Predictor, track_ids: list[int] | None = None
) -> np.ndarray:
    """Skeletons and boxes over ``image``; with ``track_ids`` each box in its track's colour, labelled."""
    canvas = image
    for k, person in enumerate(people):
        canvas = draw_skeleton(
            canvas, person.joints_img, person.confidence, predictor.joints["bones"], predictor.joints["names"]
        )
        if track_ids is None:
            draw_box(canvas, person.box)
        else:
            draw_box(canvas, person.box, track_colour(track_ids[k]), f"#{track_ids[k]}")
    return canvas


def person_detector(name: str, threads: int, tiles: int = 1) -> PersonDetector | None:
    """``blazepose`` (the bundled detector), ``none``, a JSON-declared detector or a BlazePose-format ``.tflite``;
    ``tiles`` applies to BlazePose."""
    if name == "none":
        return None
    if name == "blazepose":
        return BlazePoseDetector(threads=threads, tiles=tiles)
    if name.endswith(".tflite"):
        return BlazePoseDetector(name, threads=threads, tiles=tiles)
    if tiles != 1:
        raise MhpError("--detector-tiles applies to the BlazePose detector, not to a declared one")
    return ModelDetector(read_detector_spec(name), threads)


def image_boxes(given, detector: PersonDetector | None, image: DecodedImage, upright: bool = False):
    """The boxes for one image (original pixels), where they came from (given, detected, [] when nobody is there, or
    None: the centred box) and each box's crop rotation (the bundled detector's lean, with ``upright``)."""
    if given is not None:
        return given, "given", None
    if isinstance(detector, BlazePoseDetector):
        found = detector.detect(image.rgb)
        boxes = [image.to_original_box(body_box(d)) for d in found]
        return (boxes, "detector", [crop_turn(d) for d in found] if upright else None) if found else ([], NOBODY, None)
    if detector is not None:
        found = [image.to_original_box(box) for box in detector(image.rgb)]
        return (found, "detector", None) if found else ([], NOBODY, None)
    return None, "centred (no boxes given, --detector none)", None


def detected_person(person: PersonPose, width: int, height: int) -> PersonPose:
    """A person the bundled detector found: its region beside it, the person box the region inside the image."""
    region = region_of(person.box)
    return replace(person, box=clip_box(region, width, height), region=region)


def in_decoded_pixels(person: PersonPose, image: DecodedImage) -> PersonPose:
    """The person in the pixels of an image decoded at reduced scale, to draw over it."""
    box = np.concatenate([image.to_decoded_points(person.box[:2]), person.box[2:] / image.scale])
    return replace(person, box=box, joints_img=image.to_decoded_points(person.joints_img))


def infer_image(cfg: InferConfig, predictor: Predictor, path: Path, out: Path, table, detector) -> Path:
    image = read_image(path)
    width, height = image.width, image.height
    decoded_size = [image.rgb.shape[1], image.rgb.shape[0]]
    if image.scale != 1:
        limit = f"{image_file.MAX_PIXELS / 1e6:.0f} MP"
        print(
            f"{path}: {width}x{height} is over the {limit} limit: decoded at 1/{image.scale} scale"
            f" ({decoded_size[0]}x{decoded_size[1]}); results are in the original pixels",
            file=sys.stderr,
        )
    intrinsics = camera_for(cfg, width, height, path)
    boxes, source, turns = image_boxes(boxes_for(table, path.name), detector, image, cfg.upright)
    try:
        people = predictor.predict(
            image, boxes=boxes, intrinsics=intrinsics, root_depth_mm=cfg.root_depth, rotations_deg=turns
        )
    except MhpError as exc:
        raise MhpError(f"{path}: {exc}") from None
    if source == "detector" and isinstance(detector, BlazePoseDetector):
        people = [detected_person(person, width, height) for person in people]
    document = result_document(cfg, predictor, "image", (width, height), intrinsics)
    document["input"] = str(path)
    document["decode"] = {"scale": 1 / image.scale, "size_px": decoded_size}
    frame = {"index": 0, "time_s": 0.0, "box_source": source, "people": [p.to_dict() for p in people]}
    document["frames"].append(frame)
    if cfg.overlay:
        drawn = [in_decoded_pixels(p, image) for p in people]
        write_image(out / f"{path.stem}_overlay.jpg", overlay(image.rgb, drawn, predictor))
    if cfg.plot and people:
        plot_people(predictor, people, out / f"{path.stem}_3d.png", path.name)
    return write_json(out / f"{path.stem}.json", document)


def infer_video(cfg: InferConfig, predictor: Predictor, path: Path, out: Path, table, detector) -> Path:
    video = VideoReader(path)
    intrinsics = camera_for(cfg, video.width, video.height, None)
    document = result_document(cfg, predictor, "video", (video.width, video.height), intrinsics)
    document["fps"] = video.fps
    document["smoothing"] = {"one_euro": cfg.smooth, "min_cutoff_hz": cfg.min_cutoff, "beta": cfg.beta}
    size = (video.width, video.height)
    tracker = BoxTracker(video.width, video.height, cfg.track_confidence)  # one person, without a detector
    tracks = None if detector is None else Tracks(detector, size, min_confidence=cfg.track_confidence)
    filters: dict[int, dict[str, OneEuroFilter]] = {}  # per track id
    writer = VideoWriter(out / f"{path.stem}_overlay.mp4", video.fps, size) if cfg.overlay else None
    total = min(filter(None, (video.frame_count, cfg.max_frames)), default=None)
    if table is not None and video.frame_count:  # boxes for frames past --max-frames are not an error
        check_box_keys(table, [str(i) for i in range(video.frame_count)], cfg.boxes, frames=True)
    middle: tuple[int, list[PersonPose]] | None = None
    completed = False
    try:
        for index, t, frame in video.frames(cfg.max_frames):
            given = boxes_for(table, str(index))
            if given is None and tracks is not None:
                ids_boxes = tracks.boxes(frame, index)
                boxes, source = [box for _, box in ids_boxes], "tracked" if ids_boxes else NOBODY
            else:
                ids_boxes = [(i, None) for i in range(len(given))] if given is not None else [(0, None)]
                boxes, source = (given, "given") if given is not None else ([tracker.box], "tracked")
            people = predictor.predict(frame, boxes=boxes, intrinsics=intrinsics, root_depth_mm=cfg.root_depth)
            kept = []
            for (track_id, _), person in zip(ids_boxes, people, strict=True):
                if given is None and tracks is not None:
                    found_now = tracks.found_now(track_id)
                    if not tracks.follow(track_id, person.joints_img, person.confidence):
                        filters.pop(track_id, None)  # not written; smoothing starts again when it is found
                        continue
                    if found_now and isinstance(detector, BlazePoseDetector):
                        person = detected_person(person, *size)
                elif given is None and tracker.update(person.joints_img, person.confidence):
                    source = "tracked (lost: re-initialised to the centred box)"
                    filters.pop(track_id, None)
                track_filters = filters.setdefault(track_id, one_euro_filters(cfg))
                kept.append((track_id, smoothed(person, track_filters, t, predictor.root) if cfg.smooth else person))
            people = [person for _, person in kept]
            records = [{"track_id": track_id, **person.to_dict()} for track_id, person in kept]
            document["frames"].append({"index": index, "time_s": round(t, 4), "box_source": source, "people": records})
            if writer is not None:
                writer.write(overlay(frame, people, predictor, [track_id for track_id, _ in kept]))
            if total is None or index == total // 2:
                middle = (index, people)
            progress(index + 1, total)
        completed = True
    finally:
        if writer is not None:
            writer.close(keep=completed)
        if not completed and total and document["frames"]:
            print(file=sys.stderr)  # end the progress bar's line before the error
    if cfg.plot and middle is not None and middle[1]:
        plot_people(predictor, middle[1], out / f"{path.stem}_3d.png", f"{path.name}, frame {middle[0]}")
    return write_json(out / f"{path.stem}.json", document)


def plot_people(predictor: Predictor, people: list[PersonPose], path: Path, title: str) -> Path | None:
    """The 3D plot, or a note when matplotlib is missing (the runtime-only install has none)."""
    names, bones = predictor.joints["names"], predictor.joints["bones"]
    try:
        return plot_3d([p.joints_rel_mm for p in people], bones, names, path, title=title)
    except MissingDependencyError as exc:
        print(f"3D plot skipped: {exc} (or pass --no-plot)", file=sys.stderr)
        return None


def one_euro_filters(cfg: InferConfig) -> dict[str, OneEuroFilter]:
    return {"img": OneEuroFilter(cfg.min_cutoff, cfg.beta), "cam": OneEuroFilter(cfg.min_cutoff, cfg.beta)}


def smoothed(person: PersonPose, filters: dict[str, OneEuroFilter], t: float, root: int) -> PersonPose:
    """The person with One-Euro-filtered image and camera joints (root-relative ones follow the camera ones)."""
    joints_cam = filters["cam"].filter(person.joints_cam_mm, t)
    return replace(
        person,
        joints_img=filters["img"].filter(person.joints_img, t),
        joints_cam_mm=joints_cam,
        joints_rel_mm=joints_cam - joints_cam[root],
    )


def progress(done: int, total: int | None, stream=None) -> None:
    stream = stream or sys.stderr  # looked up per call: sys.stderr may be replaced after import
    if total:
        print(f"\r{bar(done, total)} frame {done}/{total}", end="", file=stream, flush=True)
        if done >= total:
            print(file=stream)
    elif done % 25 == 0:
        print(f"frame {done}", file=stream, flush=True)


def run_infer(cfg: InferConfig) -> list[Path]:
    """Infer every input (or lift the poses of ``cfg.keypoints``); returns the JSON result files written."""
    if cfg.keypoints:
        from mhp.infer.keypoint_run import run_keypoints

        return [run_keypoints(cfg)]
    if not cfg.input or not cfg.model:
        raise MhpError(
            "pass an INPUT (image, folder or video) and --model (an exported artifact or a checkpoint),"
            " or --keypoints FILE.json and --model LIFTER.pt"
        )
    source = Path(cfg.input)
    kind = input_kind(source)
    table = read_boxes(cfg.boxes) if cfg.boxes else None
    detector = person_detector(cfg.detector, cfg.threads, cfg.detector_tiles)
    predictor = Predictor(cfg.model, runtime=cfg.runtime, threads=cfg.threads)
    warn_failed_gate(cfg.model, predictor.gate)
    if predictor.lifter is not None:
        raise MhpError(
            f"{cfg.model} is a 2D->3D lifter: it takes 2D keypoints, not images; pass --keypoints FILE.json"
            f" instead of {cfg.input}"
        )
    out = writable_folder(cfg.out)
    if kind == "video":
        return [infer_video(cfg, predictor, source, out, table, detector)]
    images = folder_images(source) if kind == "folder" else [source]
    if table is not None:
        check_box_keys(table, [path.name for path in images], cfg.boxes, frames=False)
    written, failures = [], []
    for path in images:
        try:
            written.append(infer_image(cfg, predictor, path, out, table, detector))
        except MhpError as exc:
            if cfg.strict or len(images) == 1 or isinstance(exc, DiskFullError):
                raise
            failures.append(f"{path.name}: {exc}")
    if failures:  # every good image is written; the command still fails
        raise BatchError(len(images), "images", failures, str(out))
    return written
