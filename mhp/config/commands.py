"""One frozen dataclass per command: the values it runs with, nothing global."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from mhp.config.checks import POSITIVE, PROBABILITY, PROTOCOL, Rule, at_least, check_config
from mhp.geometry import NORMALIZATIONS
from mhp.util.cpus import loader_workers, runtime_threads

ACTIVATIONS = ("prelu", "relu", "relu6")  # the LPNet activations (mhp.models.layers builds them)
THREADS = at_least(1, 1024)
WORKERS = at_least(0, 1024)
SEED = at_least(0)


@dataclass(frozen=True)
class ModelsConfig:
    """``mhp-models``: the model card of every registered architecture."""

    models: tuple[str, ...] = ()  # empty: every registered model
    num_joints: int = 18
    activation: str | None = None  # None: each model's own (prelu for LPNets)
    repeats: int = 5
    threads: int = field(default_factory=runtime_threads)  # torch CPU threads
    json_out: str | None = None
    markdown_out: str | None = None

    def __post_init__(self) -> None:
        rules = {"num_joints": at_least(1), "activation": Rule(choices=ACTIVATIONS), "repeats": at_least(1)}
        check_config(self, {**rules, "threads": THREADS})


@dataclass(frozen=True)
class TrainConfig:
    """``mhp-train``: model, data, optimisation and run options (reference §7; differences: docs/fidelity.md)."""

    # task: pose (images -> 3D, the backbone below) or lift (2D joints -> 3D with LIFT_MLP)
    task: str = "pose"
    supervision: str = "3d"  # lift: 3d (2D/3D pairs, Martinez et al.) or 2d (2D poses only, Chen et al.)
    # model
    backbone: str = "LPSKI"
    width_mult: float = 1.0
    embedding_size: int = 2048
    activation: str = "prelu"
    input_size: int = 256
    normalization: str = "legacy"
    imagenet_weights: str | None = None  # RESNET50 only: torchvision ResNet-50 checkpoint (the paper's start)
    allow_random_init: bool = False  # RESNET50 without imagenet_weights: random weights, not the paper's baseline
    lift_width: int = 1024  # lift: the residual MLP's width, blocks and dropout (Martinez et al.)
    lift_blocks: int = 2
    lift_dropout: float = 0.5
    # data: "NAME=ROOT" entries (h36m, muco / mpii, coco) or "synthetic"; nothing given = synthetic humans
    data_3d: tuple[str, ...] = ()
    data_2d: tuple[str, ...] = ()
    val_data: str | None = None  # default: a slice held out of the first 3D set (mhp.data.holdout); or "none"
    joint_set: str | None = None  # default: the first 3D set's (reference §8.5); H36M for synthetic
    protocol: int = 2
    synthetic_samples: int = 20000
    synthetic_val_samples: int = 500
    synthetic_image_size: int = 384
    # optimisation
    epochs: int = 25
    batch_size: int = 64  # per process
    lr: float = 1e-3
    lr_decay_epochs: tuple[int, ...] = (17, 21)
    lr_decay_factor: float = 10.0
    weight_geo: float = 0.0  # bone-length-ratio loss on 2D-only samples (Zhou et al. 2017); 0 = off
    geo_from_epoch: int = 0  # Zhou et al.'s stages: the geometric loss joins once depth is learnt
    weight_limb: float = 0.0  # bone lengths outside the limb prior's 2 sigma (ContextPose); 0 = off
    limb_prior: str | None = None  # mhp-data stats JSON; default: measured on the 3D training poses
    adam_eps: float = 1e-8
    critic_lr: float = 1e-3  # lift --supervision 2d: the 2D pose critic's Adam learning rate
    critic_accuracy_cap: float = 0.9  # the critic skips batches it already judges this well
    weight_adversarial: float = 1.0  # lift --supervision 2d: the loss terms of Chen et al.
    weight_consistency: float = 1.0
    weight_reprojection: float = 1.0
    seed: int = 0
    # augmentation (reference §6.2 defaults)
    scale_factor: float = 0.25
    rotation_factor: float = 30.0
    rotation_prob: float = 0.6
    flip_prob: float = 0.5
    color_factor: float = 0.2
    occlusion_prob: float = 0.5
    # devices and speed
    device: str = "auto"  # auto, cpu, cuda, cuda:N
    amp: bool = False  # CUDA only: mixed precision; the original trains in float32
    channels_last: bool = True
    sync_bn: bool = False
    dist_backend: str = "auto"  # torchrun's process group: auto (nccl on CUDA, gloo on the CPU), nccl or gloo
    workers: int = field(default_factory=loader_workers)  # 4, or fewer on a machine with fewer CPUs
    fast_decode: bool = False  # big JPEGs at 1/2 or 1/4 scale: faster input, patches ~11/255 off (docs/fidelity)
    # run
    out: str = "runs/train"
    resume: str | None = None  # a checkpoint, or "auto" for OUT/last.pt
    save_every_min: float = 10.0  # mid-epoch checkpoints, so a killed run loses at most this much
    time_limit_min: float | None = None  # stop (with a checkpoint) when reached
    max_steps_per_epoch: int | None = None
    log_every: int = 20

    def __post_init__(self) -> None:
        check_config(
            self,
            {
                "task": Rule(choices=("pose", "lift")),
                "supervision": Rule(choices=("3d", "2d")),
                "width_mult": POSITIVE,
                "embedding_size": at_least(1),
                "lift_width": at_least(1),
                "lift_blocks": at_least(0, 64),
                "lift_dropout": Rule(at_least=0.0, below=1.0),
                "input_size": at_least(32),
                "normalization": Rule(choices=tuple(NORMALIZATIONS)),
                "protocol": PROTOCOL,
                "synthetic_samples": at_least(1),
                "synthetic_val_samples": at_least(1),
                "synthetic_image_size": at_least(64),
                "epochs": at_least(1),
                "batch_size": at_least(1),
                "lr": POSITIVE,
                "lr_decay_epochs": at_least(1),
                "lr_decay_factor": POSITIVE,
                **dict.fromkeys(("weight_geo", "weight_limb", "geo_from_epoch"), at_least(0)),
                "adam_eps": POSITIVE,
                "critic_lr": POSITIVE,
                "critic_accuracy_cap": Rule(above=0.0, at_most=1.0),
                **dict.fromkeys(("weight_adversarial", "weight_consistency", "weight_reprojection"), at_least(0)),
                "seed": SEED,
                "scale_factor": Rule(at_least=0.0, below=1.0),
                "rotation_factor": at_least(0, 180),
                "rotation_prob": PROBABILITY,
                "flip_prob": PROBABILITY,
                "color_factor": PROBABILITY,
                "occlusion_prob": PROBABILITY,
                "dist_backend": Rule(choices=("auto", "nccl", "gloo")),
                "workers": WORKERS,
                "save_every_min": POSITIVE,
                "time_limit_min": POSITIVE,
                "max_steps_per_epoch": at_least(1),
                "log_every": at_least(1),
            },
        )


@dataclass(frozen=True)
class EvalConfig:
    """``mhp-eval``: a checkpoint on a test set with the protocols of reference §10."""

    DEPRECATED: ClassVar[dict[str, str]] = {"dataset": "data", "root": "data", "model": "backbone"}

    checkpoint: str
    data: str = "synthetic"  # NAME=ROOT (h36m, mupots) or synthetic (held-out scenes)
    protocol: int = 2
    bbox_root: str | None = None  # RootNet boxes and roots instead of the ground truth
    flip_test: bool | None = None  # None: on (the original test config) unless the model was trained unflipped
    flip_mode: str = "original"  # original (W - 1 - x, as published) or corrected
    fast_decode: bool = False  # big JPEGs at 1/2 or 1/4 scale (faster, not the original evaluation)
    batch_size: int = 32
    workers: int = field(default_factory=lambda: loader_workers(2))
    device: str = "auto"
    synthetic_samples: int = 500
    synthetic_seed: int = 1_000_003  # held out: training uses other seeds
    synthetic_image_size: int = 384
    json_out: str | None = None
    keypoints_from: str | None = None  # lifters: also lift the 2D joints this image-model checkpoint predicts
    limb_prior: str | None = None  # plausibility prior (mhp-data stats); default: measured on the test poses
    backbone: str | None = None  # original snapshots only: the architecture
    num_joints: int | None = None
    width_mult: float | None = None

    def __post_init__(self) -> None:
        check_config(
            self,
            {
                "protocol": PROTOCOL,
                "batch_size": at_least(1),
                "workers": WORKERS,
                "synthetic_samples": at_least(1),
                "synthetic_seed": SEED,
                "synthetic_image_size": at_least(64),
                "num_joints": at_least(1),
                "width_mult": POSITIVE,
            },
        )


@dataclass(frozen=True)
class ExportConfig:
    """``mhp-export``: a checkpoint to ONNX / TFLite / CoreML artifacts, each with a manifest and a parity gate."""

    DEPRECATED: ClassVar[dict[str, str]] = {"calib": "calib_data", "model": "backbone"}

    checkpoint: str | None = None
    target: str = "all"  # onnx, tflite, coreml, all
    precision: tuple[str, ...] = ()  # empty: every precision the target supports (see --int8 / --fp16)
    int8: bool = False  # shorthand for --precision int8 (full integer for TFLite, INT8 weights for CoreML)
    fp16: bool = False  # shorthand for --precision fp16
    calib_data: str | None = None  # NAME=ROOT, DIR (images, boxes.json) or synthetic; default: its training data
    calib_samples: int = 256
    parity_data: str | None = None  # NAME=ROOT (h36m, muco) or synthetic; default: its validation data
    parity_samples: int = 256
    out: str | None = None  # default: runs/export/RUN, RUN the checkpoint's folder name
    check: str | None = None  # re-run the parity gate of an existing artifact
    golden: str | None = None  # write the app decoders' golden files to this folder (and export nothing)
    golden_from: str | None = None  # with --golden: a full-INT8 .tflite for the one real-model case
    no_check: bool = False
    threads: int = field(default_factory=runtime_threads)  # of the parity gates' runtimes
    verbose: bool = False
    backbone: str | None = None  # original snapshots only: the architecture
    num_joints: int | None = None
    width_mult: float | None = None

    def __post_init__(self) -> None:
        counts = {"calib_samples": at_least(1), "parity_samples": at_least(1), "num_joints": at_least(1)}
        check_config(self, {**counts, "threads": THREADS, "width_mult": POSITIVE})


@dataclass(frozen=True)
class BenchConfig:
    """``mhp-bench``: latency, memory, size and 3D accuracy of every artifact and runtime, here or on a phone."""

    DEPRECATED: ClassVar[dict[str, str]] = {"data_root": "data", "device": "phone"}

    artifacts: tuple[str, ...] = ()  # folders written by mhp-export, or artifact files
    checkpoint: str | None = None  # the torch float32 reference (default: the artifacts' source checkpoint)
    runtimes: tuple[str, ...] = ("torch", "onnxruntime", "litert", "coreml")
    threads: tuple[int, ...] = field(default_factory=lambda: tuple(sorted({1, runtime_threads()})))
    data: str = "synthetic"  # or h36m=ROOT (the Protocol 2 test split: S9, S11, every 64th frame)
    samples: int = 256  # evaluation crops (evenly spaced over the split)
    runs: int = 50
    warmup: int = 10
    accuracy: bool = True  # score every artifact on the evaluation crops (off: latency only, e.g. random weights)
    memory: bool = True  # peak resident memory of each artifact, loaded alone in a child process
    peer: tuple[str, ...] = ()  # other .tflite pose models, timed with the same settings
    peer_input: int = 256
    pipeline: tuple[int, ...] = ()  # people per frame for whole-frame rows (the bundled detector + pose), e.g. 1,3
    out: str = "runs/bench"
    readme: str | None = None  # replace the table between the mhp-bench markers in this Markdown file
    plots: bool = True
    phone: str | None = None  # android: run benchmark_model on a phone over adb
    serial: str | None = None
    benchmark_model: str | None = None  # the benchmark_model binary built for the phone
    adb: str = "adb"
    ingest: tuple[str, ...] = ()  # JSON files written by the iOS demo's benchmark mode
    verbose: bool = False
    limb_prior: str | None = None  # plausibility prior (mhp-data stats); default: measured on the test poses

    def __post_init__(self) -> None:
        check_config(
            self,
            {  # --threads below 1 or none: checked (with its own message) by mhp/bench/run.py
                "threads": Rule(at_most=1024),
                "samples": at_least(1),
                "runs": at_least(1),
                "warmup": at_least(0),
                "peer_input": at_least(1),
                "pipeline": at_least(1, 16),
            },
        )


@dataclass(frozen=True)
class InferConfig:
    """``mhp-infer``: 2D and metric 3D joints for an image, a folder of images or a video."""

    input: str = ""
    model: str = ""  # an exported artifact (.tflite, .onnx, .mlpackage) or a PyTorch checkpoint
    keypoints: str | None = None  # JSON of 2D joints to lift with a LIFT_MLP model instead of images
    runtime: str | None = None  # default: the artifact's own (litert, onnxruntime, coreml; torch for checkpoints)
    boxes: str | None = None  # JSON: [[x, y, w, h], ...] or {"image.jpg" or frame index: [[x, y, w, h], ...]}
    detector: str = "blazepose"  # the bundled one, none, a JSON-declared one, or a BlazePose-format .tflite
    detector_tiles: int = 1  # BlazePose: also search n x n overlapping tiles, for small people (n x n + 1 runs)
    upright: bool = True  # BlazePose, images: a crop turned by the detector's lean of 30-120 deg: the person upright
    focal: float | None = None  # pixels; default: EXIF 35 mm equivalent, else a 65 degree FOV across the longer side
    fov: float = 65.0  # field of view across the longer side (degrees) without --focal or EXIF
    root_depth: float | None = None  # mm; default: RootNet's k-value from the box and the focal length
    out: str = "runs/infer"
    threads: int = field(default_factory=runtime_threads)
    track_confidence: float = 0.05  # videos: below this mean joint confidence a track is lost
    smooth: bool = True  # One-Euro filtering of the joints in videos
    min_cutoff: float = 1.0  # Hz
    beta: float = 0.05
    overlay: bool = True
    plot: bool = True  # 3D skeleton PNG (matplotlib): per image, and for the middle frame of a video
    strict: bool = False  # stop at the first bad image or pose (default: do every good one, report the bad)
    verbose: bool = False
    max_frames: int | None = None

    def __post_init__(self) -> None:
        check_config(
            self,
            {
                "focal": POSITIVE,
                "fov": Rule(at_least=1.0, below=180.0),  # as mhp.infer.camera.default_intrinsics
                "root_depth": POSITIVE,
                "threads": THREADS,
                "track_confidence": PROBABILITY,
                "detector_tiles": at_least(1, 4),
                "min_cutoff": POSITIVE,
                "beta": at_least(0),
                "max_frames": at_least(1),
            },
        )
