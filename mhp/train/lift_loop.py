"""Training a 2D→3D lifter (``mhp-train --task lift``): read it top to bottom.

``--supervision 3d`` (Martinez et al.): the lifter predicts the root-relative 3D pose from a normalised 2D pose,
L2 loss on the visible joints. ``--supervision 2d`` (Chen et al., CVPR 2019): the lifter predicts a depth per
joint; the lifted pose is turned about the vertical axis by a random angle and projected, a 2D pose critic judges
the projection, and the projection lifted again and turned back must give the first pose (3D consistency) and the
input (2D reprojection). Same checkpoints, logging, resume and DDP as image training (mhp/train/loop.py).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import torch

from mhp.config import TrainConfig
from mhp.config.resolve import config_dict
from mhp.data.mix import SkipSampler, make_sampler
from mhp.errors import MhpError
from mhp.eval.lift import METRICS, score_lifter, score_mean_pose
from mhp.limbs import path_length_mm
from mhp.models import create_model
from mhp.models.lifter import LiftingModel, PoseCritic, head_joint
from mhp.train import distributed
from mhp.train.checkpoint import TrainState, load_training, save_training
from mhp.train.lift_data import LiftData, build_lift_data
from mhp.train.lift_losses import (
    consistency_losses,
    critic_loss,
    critic_should_step,
    generator_loss,
    geometric_cycle,
    renormalize,
    scale_equivariant,
)
from mhp.train.log import RunLog, format_seconds
from mhp.train.loop import MODEL_OPTIONS, RUN_FILES, lr_at, resume_path, write_config
from mhp.train.loss import LimbPriorLoss
from mhp.util.fileio import remove_stale_temps

LIFTER = "LIFT_MLP"
MM_PER_UNIT_3D = 1000.0  # an xyz lifter predicts metres: values near 1 for a network
LOSSES = ("loss_3d", "loss_adversarial", "loss_consistency_3d", "loss_reprojection_2d", "loss_limb", "loss_critic")
CSV_FIELDS = ("time", "epoch", "step", "lr", "loss", *LOSSES, "critic_accuracy", "poses_per_s")
CSV_FIELDS += tuple(f"val_{metric}_mm" for metric in METRICS)


def build_lifter(cfg: TrainConfig, data: LiftData) -> LiftingModel:
    """LIFT_MLP for the data's joint set: ``xyz`` in metres with 3D labels, ``depth`` without. A depth lifter's
    unit is about one root-head distance; the limb prior's root-to-head path length turns it into mm."""
    if cfg.backbone.upper() not in (TrainConfig.backbone, LIFTER):
        raise MhpError(f"--backbone {cfg.backbone} is an image model; --task lift trains {LIFTER}")
    for option in MODEL_OPTIONS:
        if getattr(cfg, option) != getattr(TrainConfig, option):
            raise MhpError(f"--{option.replace('_', '-')} applies to image models, not to --task lift")
    joint_set = data.joint_set
    supervised = cfg.supervision == "3d"
    unit = (
        MM_PER_UNIT_3D if supervised else path_length_mm(data.prior, joint_set, joint_set.root, head_joint(joint_set))
    )
    return create_model(
        LIFTER,
        num_joints=joint_set.num_joints,
        joint_set=joint_set.name,
        output="xyz" if supervised else "depth",
        width=cfg.lift_width,
        blocks=cfg.lift_blocks,
        dropout=cfg.lift_dropout,
        unit_mm=round(unit, 3),
    )


def pose_l2(pred: torch.Tensor, target: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
    """Squared joint distance averaged over the visible joints only (``visible`` ``(N, J)`` 0/1)."""
    per_joint = (pred - target).square().sum(-1)
    return (per_joint * visible).sum() / visible.sum().clamp(min=1.0)


def train_lift(cfg: TrainConfig) -> dict[str, Any]:
    """Train a lifter as ``cfg`` says; returns the run summary."""
    runtime = distributed.start(cfg.device)
    out = Path(cfg.out)
    start_from = resume_path(cfg, out)
    if runtime.is_main:
        out.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(out, RUN_FILES)
    torch.manual_seed(cfg.seed)

    data = build_lift_data(cfg)
    model = build_lifter(cfg, data)
    device = runtime.device
    model.to(device)
    supervised = cfg.supervision == "3d"
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, eps=cfg.adam_eps)
    scaler = torch.amp.GradScaler(device.type, enabled=False)  # lifters train in float32 (kept for the format)
    extra: dict[str, Any] = {}
    critic = None
    if not supervised:
        critic = PoseCritic(model.num_joints, width=cfg.lift_width, blocks=cfg.lift_blocks).to(device)
        critic_optimizer = torch.optim.Adam(critic.parameters(), lr=cfg.critic_lr, eps=cfg.adam_eps)
        extra = {"critic": critic, "critic_optimizer": critic_optimizer}
    state = TrainState() if start_from is None else load_training(start_from, model, optimizer, scaler, **extra)
    log = RunLog(out, enabled=runtime.is_main, resume_step=state.global_step, fields=CSV_FIELDS)
    log.message(data.description)
    log.message(
        f"limb prior: {data.prior.source}; {model.output} lifter, 1 unit = {model.unit_mm:.0f} mm, "
        f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f}M parameters"
    )
    if data.mean_pose_mm is not None:
        baseline = score_mean_pose(data.mean_pose_mm, data.val)
        log.message("mean-pose baseline on validation: " + ", ".join(f"{k} {v:.1f} mm" for k, v in baseline.items()))
    if start_from is not None:
        log.message(f"resumed {start_from} at epoch {state.epoch + 1} step {state.step_in_epoch}")
    if runtime.is_main:
        write_config(out / "config.yaml", cfg)

    joint_set, root, c = data.joint_set, model.root, model.root_distance
    limb_loss = None
    if cfg.weight_limb > 0:  # mm in, mm out: a one-voxel volume spanning 1 mm
        limb_loss = LimbPriorLoss(joint_set, data.prior, volume=(1, 1, 1), extent_mm=1.0).to(device)
    net = distributed.wrap(model.net, runtime, sync_bn=cfg.sync_bn)
    critic_net = distributed.wrap(critic, runtime, sync_bn=cfg.sync_bn) if critic is not None else None
    uv_all, _ = model.normalize(torch.as_tensor(data.train.joints_2d, dtype=torch.float32))
    uv_all = uv_all.to(device)
    visible_all = torch.as_tensor(data.train.visible, dtype=torch.float32, device=device)
    target_all = None
    if supervised:
        target_all = torch.as_tensor(data.train.joints_3d / model.unit_mm, dtype=torch.float32, device=device)
    sampler = make_sampler(
        range(len(uv_all)), shuffle=True, seed=cfg.seed, num_replicas=runtime.world_size, rank=runtime.rank
    )
    generator = torch.Generator()
    config = config_dict(cfg)
    started, last_save = time.monotonic(), time.monotonic()
    stop_reason = ""
    metric = "mpjpe" if supervised else "n_mpjpe"  # a lifter that never saw 3D knows its poses up to scale

    def save(name: str) -> None:
        if runtime.is_main:
            save_training(out / name, model, optimizer, scaler, state, config, **extra)

    while state.epoch < cfg.epochs and not stop_reason:
        epoch = state.epoch
        lr = lr_at(epoch, cfg)
        for group in optimizer.param_groups:
            group["lr"] = lr
        sampler.set_epoch(epoch)
        order = torch.as_tensor(list(SkipSampler(sampler, state.step_in_epoch * cfg.batch_size)))
        steps = len(sampler) // cfg.batch_size
        if cfg.max_steps_per_epoch:
            steps = min(steps, cfg.max_steps_per_epoch)
        if steps == 0:
            raise MhpError(f"{len(sampler)} training poses per process are fewer than --batch-size {cfg.batch_size}")
        net.train()
        if critic_net is not None:
            critic_net.train()
        window: dict[str, float] = {}
        window_start, window_steps = time.monotonic(), 0
        for batch_start in range(0, len(order) - cfg.batch_size + 1, cfg.batch_size):
            if state.step_in_epoch >= steps:
                break
            index = order[batch_start : batch_start + cfg.batch_size].to(device)
            uv, visible = uv_all[index], visible_all[index]
            terms: dict[str, torch.Tensor] = {}
            if supervised:
                units = net(uv)
                pose = units - units[:, root : root + 1]
                terms["loss_3d"] = pose_l2(pose, target_all[index], visible)
                pose_mm = pose * model.unit_mm
            else:
                # angles from (seed, step, rank) alone: a run resumed mid-epoch turns its poses as the first did
                generator.manual_seed((cfg.seed * 1_000_003 + state.global_step) * 1024 + runtime.rank)
                angle = (torch.rand(len(uv), generator=generator) * 2 - 1).mul(math.pi).to(device)
                cycle = geometric_cycle(scale_equivariant(net, model.head, c), uv, angle, root, c)
                fake = renormalize(cycle.turned_2d, model.head, c)
                terms["loss_adversarial"] = cfg.weight_adversarial * generator_loss(critic_net, fake)
                consistency = consistency_losses(cycle, uv)
                terms["loss_consistency_3d"] = cfg.weight_consistency * consistency["consistency_3d"]
                terms["loss_reprojection_2d"] = cfg.weight_reprojection * consistency["reprojection_2d"]
                pose_mm = (cycle.lifted - cycle.lifted[:, root : root + 1]) * model.unit_mm
            if limb_loss is not None:
                terms["loss_limb"] = cfg.weight_limb * limb_loss(pose_mm, visible[..., None])
            total = sum(terms.values())
            if distributed.any_across(not torch.isfinite(total).item(), runtime):
                raise MhpError(
                    f"loss became non-finite ({total.item()} here) at epoch {epoch + 1} step {state.step_in_epoch}; "
                    f"lower --lr (the last checkpoint in {out} is intact)"
                )
            optimizer.zero_grad(set_to_none=True)
            total.backward()
            optimizer.step()
            if critic_net is not None:
                loss_critic, accuracy = critic_loss(critic_net, uv, fake.detach())
                accuracy = float(distributed.mean_across(torch.tensor(accuracy, device=device), runtime))
                if critic_should_step(accuracy, cfg.critic_accuracy_cap):  # the same decision on every rank
                    critic_optimizer.zero_grad(set_to_none=True)
                    loss_critic.backward()
                    critic_optimizer.step()
                terms["loss_critic"], terms["critic_accuracy"] = loss_critic.detach(), torch.tensor(accuracy)
            terms["loss"] = total.detach()
            for key, value in terms.items():
                window[key] = window.get(key, 0.0) + float(distributed.mean_across(value.detach().to(device), runtime))
            state.step_in_epoch += 1
            state.global_step += 1
            window_steps += 1
            now = time.monotonic()
            if state.step_in_epoch % cfg.log_every == 0 or state.step_in_epoch == steps:
                rate = window_steps * cfg.batch_size * runtime.world_size / max(now - window_start, 1e-9)
                remaining = (steps - state.step_in_epoch + (cfg.epochs - epoch - 1) * steps) * cfg.batch_size
                means = {k: v / window_steps for k, v in window.items()}
                eta = remaining * runtime.world_size / rate
                log.progress(epoch, cfg.epochs, state.step_in_epoch, steps, means["loss"], rate, eta, unit="poses")
                log.scalars(
                    state.global_step, epoch=epoch + 1, step=state.global_step, lr=lr, poses_per_s=rate, **means
                )
                window, window_start, window_steps = {}, now, 0
            if cfg.time_limit_min is not None and distributed.any_across(
                state.seconds + now - started >= cfg.time_limit_min * 60, runtime
            ):
                stop_reason = f"time limit of {cfg.time_limit_min:g} min reached"
                break
            if now - last_save >= cfg.save_every_min * 60 and state.step_in_epoch < steps:
                state.seconds += now - started
                started = last_save = now
                save("last.pt")
        if not stop_reason:
            state.epoch, state.step_in_epoch = epoch + 1, 0
        scores = score_lifter(model, data.val) if runtime.is_main else {}
        distributed.barrier(runtime)
        state.seconds += time.monotonic() - started
        started = last_save = time.monotonic()
        val = scores.get(metric, float("nan"))
        val_scores = {f"val_{k}_mm": v for k, v in scores.items()}
        state.history.append({"epoch": epoch + 1, "lr": lr, **val_scores, "seconds": round(state.seconds, 1)})
        log.message(
            f"epoch {epoch + 1}/{cfg.epochs}: val "
            + ", ".join(f"{k.upper().replace('_', '-')} {v:.1f} mm" for k, v in scores.items())
            + f" ({data.val_name})"
        )
        log.scalars(state.global_step, epoch=epoch + 1, step=state.global_step, lr=lr, **val_scores)
        is_best = val < state.best_val
        if is_best:
            state.best_val = val
        save("last.pt")
        if is_best:
            save("best.pt")
        distributed.barrier(runtime)

    summary = {
        "epochs": state.epoch,
        "train_seconds": round(state.seconds, 1),
        "best_val_metric": metric,
        f"best_val_{metric}_mm": state.best_val,
        "checkpoint": str(out / "best.pt"),
        "last": str(out / "last.pt"),
        "stopped": stop_reason or "completed",
    }
    log.message(
        f"done: {state.epoch} epoch(s) in {format_seconds(state.seconds)}, best val {metric.upper()} "
        f"{state.best_val:.1f} mm, {summary['stopped']} -> {summary['checkpoint']}"
    )
    log.close()
    distributed.stop(runtime)
    return summary
