"""Single process or torchrun: detection, process group, DDP wrapping, rank-0-only side effects."""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from mhp.errors import MhpError
from mhp.train.sync_bn import convert_to_global_batchnorm


@dataclass(frozen=True)
class Runtime:
    """Where this process runs: its rank among ``world_size`` processes and its device."""

    rank: int
    local_rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """``auto`` picks CUDA (this process's local GPU under torchrun) when available, else the CPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise MhpError(f"--device {name} asked for CUDA, but torch sees no GPU here; use --device cpu")
        if ":" in name:
            return torch.device(name)
        gpus = torch.cuda.device_count()
        if local_rank >= gpus:  # torch would say only "invalid device ordinal" at the first allocation
            visible = os.environ.get("CUDA_VISIBLE_DEVICES")
            sees = f"{gpus}" + (f" (CUDA_VISIBLE_DEVICES={visible})" if visible is not None else "")
            raise MhpError(
                f"torchrun's local rank {local_rank} has no GPU of its own: this process sees {sees}; start "
                f"--nproc-per-node {gpus} or fewer, or pass --device cuda:0 where each process is given its own GPU, "
                "or share one with --device cuda:0 --dist-backend gloo"
            )
        return torch.device(f"cuda:{local_rank}")
    if name != "cpu":
        raise MhpError(f"unknown --device {name!r}; use auto, cpu, cuda or cuda:N")
    return torch.device("cpu")


def process_group_backend(name: str, device: torch.device) -> str:
    """``auto``: NCCL on CUDA, gloo on the CPU. Gloo also runs on CUDA tensors (several processes sharing a GPU,
    which NCCL refuses); NCCL never runs on the CPU."""
    if name == "auto":
        return "nccl" if device.type == "cuda" else "gloo"
    if name == "nccl" and device.type != "cuda":
        raise MhpError(f"--dist-backend nccl needs CUDA, but this process trains on {device}; use gloo or auto")
    return name


def start(device: str = "auto", backend: str = "auto") -> Runtime:
    """Join the torchrun process group if launched by torchrun (WORLD_SIZE > 1), else run alone."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local_rank = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    torch_device = resolve_device(device, local_rank)
    if world > 1 and not dist.is_initialized():
        chosen = process_group_backend(backend, torch_device)
        if torch_device.type == "cuda":
            torch.cuda.set_device(torch_device)
        if chosen == "gloo":
            use_loopback_for_gloo(world)
        dist.init_process_group(backend=chosen)
        if chosen == "nccl":
            check_nccl_starts(torch_device)
    return Runtime(rank, local_rank, world, torch_device)


def check_nccl_starts(device: torch.device) -> None:
    """A first NCCL collective, so that NCCL's refusal (on one machine most often: two processes on one GPU) is
    a one-line error here rather than a traceback from inside DistributedDataParallel."""
    try:
        dist.barrier(device_ids=[device.index])
    except dist.DistBackendError as error:
        sharing = os.environ.get("LOCAL_WORLD_SIZE", "several")
        raise MhpError(
            f"NCCL refused to start on {device} ({str(error).splitlines()[0]}); NCCL runs one process per GPU and "
            f"the {sharing} processes on this machine may share {device}: leave --device at auto (each process "
            "takes its own GPU), or share one GPU with --dist-backend gloo"
        ) from None


def use_loopback_for_gloo(world_size: int) -> None:
    """Single-node gloo talks over loopback unless the user chose an interface (GLOO_SOCKET_IFNAME).

    Gloo otherwise binds to the address the hostname resolves to; on sandboxes and laptops whose hostname
    points at a firewalled or absent interface, its connect waits out the 30-minute process-group timeout.
    """
    if "GLOO_SOCKET_IFNAME" in os.environ or int(os.environ.get("LOCAL_WORLD_SIZE", "0")) != world_size:
        return
    loopback = [name for _, name in socket.if_nameindex() if name.startswith("lo")]
    if loopback:
        os.environ["GLOO_SOCKET_IFNAME"] = loopback[0]


def stop(runtime: Runtime) -> None:
    if runtime.distributed and dist.is_initialized():
        leave_group()


def leave_group() -> None:
    """Tear the process group down on every rank together, without gloo's teardown deadlock."""
    dist.barrier()  # every rank reaches the teardown together: gloo's can hang when a peer has already gone
    # gloo's worker threads free finished work objects (this barrier's too) after it returns, and freeing one needs
    # the GIL; the group's destructor (here, or when a DDP module goes) joins those threads while holding the GIL.
    # Sleeping releases it so they finish first (a teardown deadlock seen on CPU with two processes).
    time.sleep(0.2)
    dist.destroy_process_group()


def wrap(model: nn.Module, runtime: Runtime, *, sync_bn: bool) -> nn.Module:
    """DDP around ``model`` (optionally with synchronised BatchNorm) when distributed, else the model."""
    if not runtime.distributed:
        return model
    if sync_bn:  # torch's SyncBatchNorm is CUDA-only; the all-reduce version runs anywhere
        if runtime.device.type == "cuda":
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        else:
            model = convert_to_global_batchnorm(model)
    device_ids = [runtime.device.index] if runtime.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=device_ids)


def unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def mean_across(value: torch.Tensor, runtime: Runtime) -> torch.Tensor:
    """The mean of a scalar over all processes (itself when alone)."""
    if not runtime.distributed:
        return value
    value = value.detach().clone()
    dist.all_reduce(value, op=dist.ReduceOp.SUM)
    return value / runtime.world_size


def any_across(flag: bool, runtime: Runtime) -> bool:
    """True on every process if ``flag`` is true on any (a collective decision, e.g. to stop)."""
    if not runtime.distributed:
        return flag
    value = torch.tensor([float(flag)], device=runtime.device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def barrier(runtime: Runtime) -> None:
    if runtime.distributed:
        dist.barrier()
