"""Training a 2D→3D lifter (``mhp-train --task lift``): read it top to bottom.

``--supervision 3d`` (Martinez et al.): the lifter predicts the root-relative 3D pose from a normalised 2D pose,
L2 loss on the visible joints. ``--supervision 2d`` (Chen et al., CVPR 2019): the lifter predicts a depth per
joint; the lifted pose is turned about the vertical axis by a random angle and projected, a 2D pose critic judges
the projection, and the projection lifted again and turned back must give the first pose (3D consistency) and the
input (2D reprojection). Same checkpoints, logging, resume and DDP as image training (mhp/train/loop.py).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from mhp.config import TrainConfig
from mhp.data.mix import SkipSampler, make_sampler
from mhp.errors import MhpError
from mhp.eval.lift import METRICS, score_lifter, score_mean_pose
from mhp.limbs import path_length_mm
from mhp.models import create_model
from mhp.models.lifter import LiftingModel, PoseCritic, head_joint
from mhp.train import distributed
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
from mhp.train.log import STEP_FIELDS
from mhp.train.loop import MODEL_OPTIONS
from mhp.train.loss import LimbPriorLoss
from mhp.train.run import TrainingRun

LIFTER = "LIFT_MLP"
MM_PER_UNIT_3D = 1000.0  # an xyz lifter predicts metres: values near 1 for a network
LOSSES = ("loss_3d", "loss_adversarial", "loss_consistency_3d", "loss_reprojection_2d", "loss_limb", "loss_critic")
CSV_FIELDS = (*STEP_FIELDS, *LOSSES, "critic_accuracy", "poses_per_s", "gpu_peak_mib")
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
    with TrainingRun(cfg) as run:  # holds the output folder; released however the run ends
        data = build_lift_data(cfg)
        model = build_lifter(cfg, data)
        device = run.device
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
        run.begin(model, optimizer, scaler, fields=CSV_FIELDS, unit="poses", **extra)
        run.message(data.description)
        run.message(
            f"limb prior: {data.prior.source}; {model.output} lifter, 1 unit = {model.unit_mm:.0f} mm, "
            f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f}M parameters"
        )
        if data.mean_pose_mm is not None:
            baseline = score_mean_pose(data.mean_pose_mm, data.val)
            run.message(
                "mean-pose baseline on validation: " + ", ".join(f"{k} {v:.1f} mm" for k, v in baseline.items())
            )
        run.ready()
        if cfg.amp:
            run.message("--amp: lifters train in float32 (mixed precision is for the image models' convolutions)")

        joint_set, root, c, runtime = data.joint_set, model.root, model.root_distance, run.runtime
        limb_loss = None
        if cfg.weight_limb > 0:  # mm in, mm out: a one-voxel volume spanning 1 mm
            limb_loss = LimbPriorLoss(joint_set, data.prior).to(device)
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
        metric = "mpjpe" if supervised else "n_mpjpe"  # a lifter that never saw 3D knows its poses up to scale

        for epoch, _ in run.epochs():
            sampler.set_epoch(epoch)
            order = torch.as_tensor(list(SkipSampler(sampler, run.state.step_in_epoch * cfg.batch_size)))
            steps = run.steps_per_epoch(len(sampler))
            if steps == 0:
                raise MhpError(
                    f"{len(sampler)} training poses per process are fewer than --batch-size {cfg.batch_size}"
                )
            net.train()
            if critic_net is not None:
                critic_net.train()
            for batch_start in range(0, len(order) - cfg.batch_size + 1, cfg.batch_size):
                if run.state.step_in_epoch >= steps:
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
                    generator.manual_seed((cfg.seed * 1_000_003 + run.state.global_step) * 1024 + runtime.rank)
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
                run.check_finite(total, "lower --lr")
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
                if run.step_done(len(index), terms, steps):
                    break
            run.end_epoch(lambda: score_lifter(model, data.val), metric, data.val_name)
        del net, critic_net  # DDP's reducers go while their process group is alive (see loop.py)
        return run.finish(metric)
