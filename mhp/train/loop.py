"""The training loop: read it top to bottom.

Single process or torchrun (DDP). Samples and augmentation depend only on (seed, epoch, index), and the
optimiser, AMP scaler, position in the epoch and RNG states are checkpointed, so ``--resume`` continues a
killed run exactly where its last checkpoint left it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from torch.utils.data import DataLoader

from mhp.config import TrainConfig
from mhp.config.resolve import config_dict
from mhp.data.dataset import CropConfig, FailureMonitor, PoseDataset, Source
from mhp.data.mix import SkipSampler, make_sampler
from mhp.errors import MhpError
from mhp.eval.pose import EVAL_JOINTS, predict, score_poses, voxels_to_camera
from mhp.limbs import LimbPrior, limb_prior, read_limb_prior
from mhp.models import create_model, model_parameters, resolve_model_name
from mhp.skeleton import JointSet, remap_joints
from mhp.train import distributed
from mhp.train.checkpoint import TrainState, load_training, save_training
from mhp.train.data import build_train_data, default_joint_set, training_poses
from mhp.train.log import RunLog, format_seconds
from mhp.train.loss import BoneRatioLoss, LimbPriorLoss, canonical_bone_lengths, integral_l1_loss
from mhp.util.fileio import atomic_path, remove_stale_temps

MODEL_OPTIONS = ("width_mult", "embedding_size", "activation", "input_size", "normalization")
RUN_FILES = ("last.pt", "best.pt", "config.yaml", "log.csv")  # written atomically, or trimmed on resume


def lr_at(epoch: int, cfg: TrainConfig) -> float:
    """Step decay: ``lr`` divided by ``lr_decay_factor`` at each of ``lr_decay_epochs`` (reference §7: 17, 21)."""
    return cfg.lr / cfg.lr_decay_factor ** sum(epoch >= e for e in cfg.lr_decay_epochs)


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
    model = create_model(name, **kwargs)
    if cfg.imagenet_weights:
        if name != "RESNET50":
            raise MhpError("--imagenet-weights applies to RESNET50 only")
        model.backbone.load_imagenet(cfg.imagenet_weights)
    return model


def resume_path(cfg: TrainConfig, out: Path) -> Path | None:
    if cfg.resume is None:
        if (out / "last.pt").exists():
            raise MhpError(f"{out} already holds a run (last.pt); pass --resume auto to continue it or another --out")
        return None
    path = out / "last.pt" if cfg.resume == "auto" else Path(cfg.resume)
    if cfg.resume == "auto" and not path.exists():
        return None
    if not path.is_file():
        raise MhpError(f"--resume {cfg.resume}: {path} not found; pass a checkpoint, or auto for {out / 'last.pt'}")
    return path


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


def write_config(path: Path, cfg: TrainConfig) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(yaml.safe_dump(config_dict(cfg), sort_keys=False))


def train(cfg: TrainConfig) -> dict[str, Any]:
    """Train as ``cfg`` says; returns the run summary (also printed as the last line)."""
    runtime = distributed.start(cfg.device)
    out = Path(cfg.out)
    start_from = resume_path(cfg, out)  # refuse to overwrite a run before touching its folder
    if runtime.is_main:
        out.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(out, RUN_FILES)
    torch.manual_seed(cfg.seed)  # identical initial weights on every rank (DDP also broadcasts rank 0's)

    joint_set = default_joint_set(cfg, cfg.data_3d or ("synthetic",))
    model = build_model(cfg, joint_set.num_joints, joint_set.name)
    device = runtime.device
    amp = cfg.amp and device.type == "cuda"
    amp_dtype = torch.bfloat16 if amp and torch.cuda.is_bf16_supported() else torch.float16
    model.to(device)
    if cfg.channels_last:
        model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    scaler = torch.amp.GradScaler(device.type, enabled=amp and amp_dtype == torch.float16)
    state = TrainState() if start_from is None else load_training(start_from, model, optimizer, scaler)
    log = RunLog(out, enabled=runtime.is_main, resume_step=state.global_step)
    crop = CropConfig.for_model(model)
    data = build_train_data(cfg, crop)
    log.message(data.description)  # the first line of every run says what it trains on
    if start_from is not None:
        log.message(f"resumed {start_from} at epoch {state.epoch + 1} step {state.step_in_epoch}")
    if runtime.is_main:
        write_config(out / "config.yaml", cfg)
    geo_loss = None
    if cfg.weight_geo > 0:
        lengths = canonical_bone_lengths(training_poses(data.sources_3d, joint_set), joint_set.num_joints)
        geo_loss = BoneRatioLoss(joint_set, lengths, (crop.depth_bins, *crop.heatmap_size[::-1])).to(device)
    limb_loss = None
    if cfg.weight_limb > 0:
        prior = training_limb_prior(cfg, data.sources_3d, joint_set)
        log.message(f"limb prior (--weight-limb {cfg.weight_limb:g}, samples with depth): {prior.source}")
        limb_loss = LimbPriorLoss(joint_set, prior, (crop.depth_bins, *crop.heatmap_size[::-1])).to(device)
    net = distributed.wrap(model, runtime, sync_bn=cfg.sync_bn)
    sampler = make_sampler(data.train, shuffle=True, seed=cfg.seed, num_replicas=runtime.world_size, rank=runtime.rank)
    monitor = FailureMonitor()
    config = config_dict(cfg)
    started, last_save = time.monotonic(), time.monotonic()
    stop_reason = ""

    def save(name: str) -> None:
        if runtime.is_main:
            save_training(out / name, model, optimizer, scaler, state, config)

    while state.epoch < cfg.epochs and not stop_reason:
        epoch = state.epoch
        lr = lr_at(epoch, cfg)
        for group in optimizer.param_groups:
            group["lr"] = lr
        sampler.set_epoch(epoch)
        data.train.set_epoch(epoch)
        loader = DataLoader(
            data.train,
            batch_size=cfg.batch_size,
            sampler=SkipSampler(sampler, state.step_in_epoch * cfg.batch_size),
            num_workers=cfg.workers,
            pin_memory=device.type == "cuda",
            drop_last=True,  # BatchNorm needs more than one sample; the original kept a short last batch
        )
        steps = len(sampler) // cfg.batch_size
        if cfg.max_steps_per_epoch:
            steps = min(steps, cfg.max_steps_per_epoch)
        net.train()
        window_start, window_steps, window_images = time.monotonic(), 0, 0
        window_loss, window_geo, window_limb = 0.0, 0.0, 0.0
        for batch in loader:
            if state.step_in_epoch >= steps:
                break
            monitor.update(batch)
            images = batch["image"].to(device, non_blocking=True)
            if cfg.channels_last:
                images = images.to(memory_format=torch.channels_last)
            joints, vis = batch["joints"].to(device), batch["vis"].to(device)
            has_depth = batch["has_depth"].to(device)
            with torch.autocast(device.type, dtype=amp_dtype, enabled=amp):
                pred = net(images)
            loss = integral_l1_loss(pred.float(), joints, vis, has_depth)
            geo = geo_loss(pred.float(), vis, has_depth) if geo_loss is not None else torch.zeros((), device=device)
            limb = limb_loss(pred.float(), vis, has_depth) if limb_loss is not None else torch.zeros((), device=device)
            total = loss + cfg.weight_geo * geo + cfg.weight_limb * limb
            if distributed.any_across(not torch.isfinite(total).item(), runtime):  # all ranks stop together
                where = f"epoch {epoch + 1} step {state.step_in_epoch}"
                raise MhpError(
                    f"loss became non-finite ({total.item()} here) at {where}; lower --lr or check the data with "
                    f"mhp-data check (the last checkpoint in {out} is intact)"
                )
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(total).backward()
            scaler.step(optimizer)
            scaler.update()
            state.step_in_epoch += 1
            state.global_step += 1
            window_steps += 1
            window_images += len(images) * runtime.world_size
            window_loss += float(distributed.mean_across(loss.detach(), runtime))
            window_geo += float(distributed.mean_across(geo.detach(), runtime))
            window_limb += float(distributed.mean_across(limb.detach(), runtime))
            now = time.monotonic()
            if state.step_in_epoch % cfg.log_every == 0 or state.step_in_epoch == steps:
                n = window_steps
                rate = window_images / max(now - window_start, 1e-9)
                remaining = (steps - state.step_in_epoch + (cfg.epochs - epoch - 1) * steps) * cfg.batch_size
                log.progress(
                    epoch,
                    cfg.epochs,
                    state.step_in_epoch,
                    steps,
                    window_loss / n,
                    rate,
                    remaining * runtime.world_size / rate,
                )
                log.scalars(
                    state.global_step,
                    epoch=epoch + 1,
                    step=state.global_step,
                    lr=lr,
                    loss=window_loss / n,
                    loss_geo=window_geo / n,
                    loss_limb=window_limb / n,
                    images_per_s=rate,
                )
                window_start, window_steps, window_images = now, 0, 0
                window_loss, window_geo, window_limb = 0.0, 0.0, 0.0
            if cfg.time_limit_min is not None and distributed.any_across(
                state.seconds + now - started >= cfg.time_limit_min * 60, runtime
            ):  # every rank stops at the same step
                stop_reason = f"time limit of {cfg.time_limit_min:g} min reached"
                break
            if now - last_save >= cfg.save_every_min * 60 and state.step_in_epoch < steps:
                state.seconds += now - started
                started = last_save = now
                save("last.pt")
        if not stop_reason:
            state.epoch, state.step_in_epoch = epoch + 1, 0
        val = float("nan")
        if data.val is not None:
            if runtime.is_main:
                val = validate(model, data.val, cfg, device)
            distributed.barrier(runtime)
        state.seconds += time.monotonic() - started
        started = last_save = time.monotonic()
        state.history.append({"epoch": epoch + 1, "lr": lr, "val_mpjpe_mm": val, "seconds": round(state.seconds, 1)})
        log.message(f"epoch {epoch + 1}/{cfg.epochs}: val MPJPE {val:.1f} mm ({data.val_name})")
        log.scalars(state.global_step, epoch=epoch + 1, step=state.global_step, lr=lr, val_mpjpe_mm=val)
        # best.pt follows the validation score; without a validation set it is the latest model
        is_best = data.val is None or val < state.best_val
        if data.val is not None and is_best:
            state.best_val = val
        save("last.pt")
        if is_best:
            save("best.pt")
        distributed.barrier(runtime)

    summary = {
        "epochs": state.epoch,
        "train_seconds": round(state.seconds, 1),
        "best_val_mpjpe_mm": state.best_val,
        "checkpoint": str(out / "best.pt"),
        "last": str(out / "last.pt"),
        "failed_images": monitor.failures,
        "stopped": stop_reason or "completed",
    }
    log.message(
        f"done: {state.epoch} epoch(s) in {format_seconds(state.seconds)}, best val MPJPE {state.best_val:.1f} mm, "
        f"{monitor.summary()}, {summary['stopped']} -> {summary['checkpoint']}"
    )
    log.close()
    distributed.stop(runtime)
    return summary
