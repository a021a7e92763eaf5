"""The training loop: read it top to bottom.

Single process or torchrun (DDP). Samples and augmentation depend only on (seed, epoch, index), and the
optimiser, AMP scaler, position in the epoch and RNG states are checkpointed, so ``--resume`` continues a
killed run exactly where its last checkpoint left it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from mhp.config import TrainConfig
from mhp.data.dataset import CropConfig, FailureMonitor, PoseDataset, Source
from mhp.data.mix import SkipSampler, make_sampler
from mhp.errors import MhpError
from mhp.eval.pose import EVAL_JOINTS, predict, score_poses, voxels_to_camera
from mhp.limbs import LimbPrior, limb_prior, read_limb_prior
from mhp.models import create_model, model_parameters, resolve_model_name
from mhp.skeleton import JointSet, remap_joints
from mhp.train import distributed
from mhp.train.data import build_train_data, default_joint_set, training_poses
from mhp.train.loss import (
    BoneRatioLoss,
    LimbPriorLoss,
    canonical_bone_lengths,
    integral_l1_loss,
    known_camera,
    voxels_to_camera_mm,
)
from mhp.train.run import TrainingRun

MODEL_OPTIONS = ("width_mult", "embedding_size", "activation", "input_size", "normalization")


def build_model(cfg: TrainConfig, num_joints: int, joint_set: str):
    """The configured model; an option the architecture does not take is an error unless left at its default."""
    name = resolve_model_name(cfg.backbone)
    accepted = model_parameters(name)
    kwargs: dict[str, Any] = {"num_joints": num_joints, "joint_set": joint_set}
    for option in MODEL_OPTIONS:
        value = getattr(cfg, option)
        if option in accepted:
            kwargs[option] = value
        elif value != getattr(TrainConfig, option):
            raise MhpError(f"--{option.replace('_', '-')} does not apply to {name}")
    if cfg.imagenet_weights and name != "RESNET50":
        raise MhpError("--imagenet-weights applies to RESNET50 only")
    if name == "RESNET50" and not cfg.imagenet_weights and not cfg.allow_random_init:
        raise MhpError(
            "RESNET50 starts from ImageNet weights in the paper (3DMPPE: 53.3 mm on protocol 2): pass "
            "--imagenet-weights resnet50-0676ba61.pth (torchvision's ResNet-50 state dict; mhp downloads nothing), "
            "or --allow-random-init to train from random weights"
        )
    model = create_model(name, **kwargs)
    if cfg.imagenet_weights:
        model.backbone.load_imagenet(cfg.imagenet_weights)
    return model


def amp_dtype(amp: bool, device: torch.device) -> torch.dtype | None:
    """What ``--amp`` computes in on ``device``: bfloat16 where the GPU has it, else float16 (with a gradient
    scaler); None for float32 (no ``--amp``, or not CUDA)."""
    if not (amp and device.type == "cuda"):
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def precision_note(low: torch.dtype | None, device: torch.device) -> str:
    """The run's line about ``--amp``: what it computes in, or that it does nothing here."""
    if low is None:
        return f"--amp: mixed precision runs on CUDA only, so this run on {device} trains in float32"
    scaled = ", with a gradient scaler" if low == torch.float16 else ""
    return f"--amp: convolutions in {str(low).removeprefix('torch.')} on {device}{scaled}; losses in float32"


def validate(model: torch.nn.Module, data: PoseDataset, cfg: TrainConfig, device: torch.device) -> float:
    """Root-relative MPJPE (mm) on the validation set, ground-truth boxes and roots."""
    voxel, crops, indices = predict(model, data, batch_size=cfg.batch_size, device=device)
    pred = voxels_to_camera(voxel, crops, data.source, indices, data.crop)
    gt = np.stack(
        [remap_joints(data.source.record(int(i)).joints_cam, data.source.joint_set, data.joint_set) for i in indices]
    )
    joints = list(EVAL_JOINTS.get(data.joint_set.name, range(data.joint_set.num_joints)))
    scores = score_poses(pred, gt, root=data.joint_set.root, joints=joints, groups=[""] * len(pred))
    return float(scores.mpjpe.mean())


def training_limb_prior(cfg: TrainConfig, sources_3d: list[Source], joint_set: JointSet) -> LimbPrior:
    """``--limb-prior``'s file (for the model's joint set), else the prior of the 3D training poses."""
    if cfg.limb_prior:
        return read_limb_prior(cfg.limb_prior, joint_set)
    poses = training_poses(sources_3d, joint_set).numpy()
    # remap_joints leaves joints a source lacks at (0, 0, 0), where no camera-space joint can be
    present = np.any(poses != 0, axis=-1)
    try:
        return limb_prior(poses, joint_set, present, source="the 3D training poses")
    except MhpError as exc:
        raise MhpError(f"--weight-limb: {exc}, or pass --limb-prior FILE (mhp-data stats)") from None


def train(cfg: TrainConfig) -> dict[str, Any]:
    """Train as ``cfg`` says; returns the run summary (also printed as the last line)."""
    with TrainingRun(cfg) as run:  # holds the output folder; released however the run ends
        joint_set = default_joint_set(cfg, cfg.data_3d or ("synthetic",))
        model = build_model(cfg, joint_set.num_joints, joint_set.name)
        device = run.device
        low = amp_dtype(cfg.amp, device)
        model.to(device)
        if cfg.channels_last:
            model.to(memory_format=torch.channels_last)
        optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        scaler = torch.amp.GradScaler(device.type, enabled=low == torch.float16)
        run.begin(model, optimizer, scaler)
        crop = CropConfig.for_model(model)
        data = build_train_data(cfg, crop)
        run.message(data.description)  # the first line of every run says what it trains on
        run.ready()
        if cfg.amp:
            run.message(precision_note(low, device))
        geo_loss = None
        if cfg.weight_geo > 0:
            lengths = canonical_bone_lengths(training_poses(data.sources_3d, joint_set), joint_set.num_joints)
            geo_loss = BoneRatioLoss(joint_set, lengths).to(device)
        limb_loss = None
        if cfg.weight_limb > 0:
            prior = training_limb_prior(cfg, data.sources_3d, joint_set)
            run.message(f"limb prior (--weight-limb {cfg.weight_limb:g}, samples with depth): {prior.source}")
            limb_loss = LimbPriorLoss(joint_set, prior).to(device)
        net = distributed.wrap(model, run.runtime, sync_bn=cfg.sync_bn)
        runtime = run.runtime
        sampler = make_sampler(
            data.train, shuffle=True, seed=cfg.seed, num_replicas=runtime.world_size, rank=runtime.rank
        )
        monitor = FailureMonitor()
        zero = torch.zeros((), device=device)

        for epoch, _ in run.epochs():
            sampler.set_epoch(epoch)
            data.train.set_epoch(epoch)
            loader = DataLoader(
                data.train,
                batch_size=cfg.batch_size,
                sampler=SkipSampler(sampler, run.state.step_in_epoch * cfg.batch_size),
                num_workers=cfg.workers,
                pin_memory=device.type == "cuda",
                drop_last=True,  # BatchNorm needs more than one sample; the original kept a short last batch
            )
            steps = run.steps_per_epoch(len(sampler))
            net.train()
            for batch in loader:
                if run.state.step_in_epoch >= steps:
                    break
                monitor.update(batch)
                images = batch["image"].to(device, non_blocking=True)
                if cfg.channels_last:
                    images = images.to(memory_format=torch.channels_last)
                joints, vis = batch["joints"].to(device), batch["vis"].to(device)
                has_depth = batch["has_depth"].to(device)
                with torch.autocast(device.type, dtype=low, enabled=low is not None):
                    pred = net(images)
                loss = integral_l1_loss(pred.float(), joints, vis, has_depth)
                geo = zero
                if geo_loss is not None and epoch >= cfg.geo_from_epoch:  # Zhou et al.: 2D-only samples
                    skeleton, has_scale = geo_loss.skeleton_mm(joints, pred.float(), vis, crop)
                    geo = geo_loss(skeleton, vis, (1.0 - has_depth[:, 0]) * has_scale)
                limb = zero
                if limb_loss is not None:  # samples with depth, in their own camera's millimetres
                    camera, known = known_camera(batch["camera"].to(device))
                    joints_mm = voxels_to_camera_mm(pred.float(), batch["crop"].to(device), camera, crop)
                    limb = limb_loss(joints_mm, vis, has_depth * known)
                total = loss + cfg.weight_geo * geo + cfg.weight_limb * limb
                run.check_finite(total, "lower --lr or check the data with mhp-data check")
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(total).backward()
                scaler.step(optimizer)
                scaler.update()
                if run.step_done(len(images), {"loss": loss, "loss_geo": geo, "loss_limb": limb}, steps):
                    break
            validate_run = (lambda: {"mpjpe": validate(model, data.val, cfg, device)}) if data.val is not None else None
            run.end_epoch(validate_run, "mpjpe", data.val_name)
        del net  # DDP's reducer goes while its process group is alive: gloo's teardown then joins idle threads only
        return run.finish("mpjpe", f", {monitor.summary()}", failed_images=monitor.failures)
