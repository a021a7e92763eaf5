"""mhp-infer: 2D and metric 3D joints for an image, a folder of images or a video.

mhp-infer photo.jpg --model runs/quickstart/export/lpski_int8.tflite
mhp-infer clip.mp4 --model EXPORT/lpski_fp32.onnx --focal 1500 --out runs/infer
mhp-infer folder/ --model RUN/best.pt --boxes boxes.json
mhp-infer --keypoints poses_2d.json --model LIFT_RUN/best.pt    # 2D keypoints -> root-relative 3D mm
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from mhp.cli import run_command
from mhp.cli.options import CommandParser, add_config_arguments
from mhp.config import InferConfig
from mhp.config.resolve import resolve_config
from mhp.errors import MhpError
from mhp.util.native_log import native_log

HELP = {
    "input": "image, folder of images or video (or pass it as the first argument)",
    "model": "exported artifact (.tflite, .onnx, .mlpackage; manifest beside it) or a PyTorch checkpoint",
    "keypoints": 'JSON of 2D poses to lift with a LIFT_MLP checkpoint (no INPUT): {"joint_set": "COCO", "poses":'
    ' [{"id": ..., "keypoints": [[x, y, score], ...]}]} (README: Inference)',
    "runtime": "litert, onnxruntime, coreml or torch (default: the file's own)",
    "boxes": 'JSON person boxes: [[x, y, w, h], ...] for all, or {"image.jpg" or frame index: [[x, y, w, h]]}',
    "detector": "person detector: blazepose (bundled: MediaPipe's pose_detection.tflite, make detector), none (a "
    "centred box), a JSON declaring an ONNX/TFLite detector, or a .tflite in BlazePose's format",
    "focal": "focal length in pixels (default: EXIF 35 mm equivalent, else --fov)",
    "fov": "field of view in degrees across the image's longer side when the focal length is unknown",
    "root_depth": "root joint depth in mm (default: RootNet's k-value from the box and focal length)",
    "detector_tiles": "the bundled detector also searches N x N overlapping tiles (small people; N x N + 1 runs)",
    "upright": "images: turn a crop by the person's lean when the bundled detector sees one of 30-120 degrees (a person"
    " lying or bending), so the pose model sees them upright (crop_rotation_deg)",
    "track_confidence": "videos: mean joint confidence below which a track is lost (the detector looks again)",
    "smooth": "One-Euro filter the joints of videos",
    "min_cutoff": "One-Euro: minimum cutoff frequency (Hz); lower smooths more",
    "beta": "One-Euro: speed coefficient; higher follows fast motion with less lag",
    "max_frames": "videos: stop after this many frames",
    "strict": "stop at the first bad image or pose (default: do every good one, name the bad, exit 1)",
    "overlay": "write the 2D skeleton over the image / video",
    "plot": "write a 3D skeleton PNG from the front and the side",
}


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="mhp-infer", description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("source", nargs="?", help="image, folder of images or video")
    parser.add_argument("--config", help="flat YAML with any of the options below")
    add_config_arguments(parser, InferConfig, help_text=HELP)
    return parser


def parse_config(argv: Sequence[str] | None) -> InferConfig:
    """The flags (over their ``--config`` YAML) as a checked config; nothing runs."""
    args = vars(build_parser().parse_args(argv))
    source = args.pop("source")
    if source and args["input"] and args["input"] != source:
        raise MhpError(f"two inputs: {source} and --input {args['input']}; give one (run mhp-infer once per input)")
    if source:
        args["input"] = source
    return resolve_config(InferConfig, yaml_path=args.pop("config"), flags=args)


def body(argv: Sequence[str] | None) -> int:
    cfg = parse_config(argv)
    from mhp.infer.run import run_infer

    with native_log(cfg.verbose):  # LiteRT's "Created TensorFlow Lite XNNPACK delegate" and the like
        for path in run_infer(cfg):
            print(f"wrote {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(body, argv)


if __name__ == "__main__":
    raise SystemExit(main())
