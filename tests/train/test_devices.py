"""The CUDA-only decisions of training, checked on the CPU: which GPU each torchrun rank takes, which process
group backend joins them, what ``--amp`` computes in, the peak GPU memory the log reports, and resuming a run
with the float16 gradient scaler of a GPU without bfloat16."""

import os
from types import SimpleNamespace

import pytest
import torch
import torch.distributed as dist

from mhp.errors import MhpError
from mhp.models import create_model
from mhp.train import distributed
from mhp.train.checkpoint import TrainState, load_training, save_training
from mhp.train.distributed import Runtime, process_group_backend, resolve_device
from mhp.train.loop import amp_dtype, precision_note
from mhp.train.run import TrainingRun

CUDA0, CPU = torch.device("cuda:0"), torch.device("cpu")


@pytest.fixture
def one_gpu(monkeypatch):
    """torch as it is on a machine with one GPU."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)


def test_each_torchrun_rank_takes_its_local_gpu(one_gpu):
    assert resolve_device("cuda", local_rank=0) == CUDA0
    assert resolve_device("auto", local_rank=0) == CUDA0
    assert resolve_device("cuda:0", local_rank=1) == CUDA0  # named: every rank shares it


def test_a_rank_without_a_gpu_of_its_own_is_told_how_to_share_one(one_gpu, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
    with pytest.raises(MhpError) as caught:
        resolve_device("cuda", local_rank=1)
    message = str(caught.value)
    assert "local rank 1 has no GPU of its own: this process sees 1 (CUDA_VISIBLE_DEVICES=3)" in message
    assert "--nproc-per-node 1" in message
    assert "--device cuda:0 --dist-backend gloo" in message


@pytest.mark.parametrize(
    ("name", "device", "chosen"),
    [("auto", CUDA0, "nccl"), ("auto", CPU, "gloo"), ("gloo", CUDA0, "gloo"), ("nccl", CUDA0, "nccl")],
)
def test_process_group_backend(name, device, chosen):
    assert process_group_backend(name, device) == chosen


def test_nccl_on_the_cpu_is_refused_before_joining_a_group(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("LOCAL_RANK", "0")

    def join(**kwargs):
        raise AssertionError(f"joined a process group: {kwargs}")

    monkeypatch.setattr(dist, "init_process_group", join)
    with pytest.raises(MhpError, match="--dist-backend nccl needs CUDA, but this process trains on cpu"):
        distributed.start("cpu", "nccl")


def test_a_gpu_shared_by_ranks_joins_with_gloo_over_loopback(one_gpu, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    monkeypatch.delenv("GLOO_SOCKET_IFNAME", raising=False)
    monkeypatch.setattr(dist, "is_initialized", lambda: False)
    joined, chosen_devices = [], []
    monkeypatch.setattr(dist, "init_process_group", lambda backend: joined.append(backend))
    monkeypatch.setattr(torch.cuda, "set_device", chosen_devices.append)
    runtime = distributed.start("cuda:0", "gloo")
    assert (runtime.rank, runtime.world_size, runtime.device) == (1, 2, CUDA0)
    assert joined == ["gloo"]
    assert chosen_devices == [CUDA0]
    assert os.environ["GLOO_SOCKET_IFNAME"].startswith("lo")


def test_ranks_sharing_a_gpu_under_nccl_are_told_to_use_gloo(one_gpu, monkeypatch):
    """NCCL 2.28 on an H200, two ranks on cuda:0: its first collective raised "invalid usage" (issue 23)."""
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("LOCAL_RANK", "0")
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    monkeypatch.setattr(dist, "is_initialized", lambda: False)
    monkeypatch.setattr(dist, "init_process_group", lambda backend: None)
    monkeypatch.setattr(torch.cuda, "set_device", lambda device: None)
    refusal = "NCCL error in: NCCLUtils.cpp:93, invalid usage (run with NCCL_DEBUG=WARN for details)\nmore"
    barriers = []

    def barrier(device_ids):
        barriers.append(device_ids)
        raise dist.DistBackendError(refusal)

    monkeypatch.setattr(dist, "barrier", barrier)
    with pytest.raises(MhpError) as caught:
        distributed.start("cuda:0", "nccl")
    message = str(caught.value)
    assert barriers == [[0]]
    assert message.startswith("NCCL refused to start on cuda:0 (NCCL error in: NCCLUtils.cpp:93, invalid usage")
    assert "the 2 processes on this machine may share cuda:0" in message
    assert "--dist-backend gloo" in message
    assert "\n" not in message


def test_amp_computes_in_bfloat16_where_the_gpu_has_it_else_float16(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    assert amp_dtype(True, CUDA0) == torch.bfloat16
    assert precision_note(torch.bfloat16, CUDA0) == "--amp: convolutions in bfloat16 on cuda:0; losses in float32"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    assert amp_dtype(True, CUDA0) == torch.float16
    assert precision_note(torch.float16, CUDA0).endswith("float16 on cuda:0, with a gradient scaler; losses in float32")
    assert amp_dtype(False, CUDA0) is None


def test_amp_on_the_cpu_trains_in_float32_and_says_so():
    assert amp_dtype(True, CPU) is None
    assert precision_note(None, CPU) == "--amp: mixed precision runs on CUDA only, so this run on cpu trains in float32"


def test_the_log_reports_peak_gpu_memory_in_mib(monkeypatch):
    asked = []

    def peak(device):
        asked.append(device)
        return 3 * 2**30 + 2**19  # 3 GiB and half a MiB

    monkeypatch.setattr(torch.cuda, "max_memory_allocated", peak)
    assert TrainingRun.gpu_memory(SimpleNamespace(device=CUDA0)) == {"gpu_peak_mib": 3072.5}
    assert asked == [CUDA0]
    assert TrainingRun.gpu_memory(SimpleNamespace(device=CPU)) == {}


def test_running_out_of_gpu_memory_is_one_line_with_the_fix(tiny_config, monkeypatch):
    """LPRES at batch 64 held 82 GiB in float32 on an H200 (issue 23): torch's own message is a page long."""
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda device: SimpleNamespace(total_memory=24 * 2**30))
    monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda device: 20 * 2**30)
    cfg = tiny_config(batch_size=64)

    def run_out_of_memory():
        with TrainingRun(cfg) as run:
            run.runtime = Runtime(rank=0, local_rank=0, world_size=1, device=CUDA0)
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB.\nIf reserved but unused")

    with pytest.raises(MhpError) as caught:
        run_out_of_memory()
    assert str(caught.value) == (
        "out of GPU memory on cuda:0 (24,576 MiB) at --batch-size 64 per process, after its tensors had held "
        "20,480 MiB; add --amp (29-47 % less memory; --resume auto continues from the last checkpoint), or start a "
        "new run with a lower --batch-size"
    )
    with TrainingRun(cfg):  # the folder's lock was released
        pass


def scaled_checkpoint(tmp_path, scaler: torch.amp.GradScaler):
    """A training checkpoint of a tiny LPSKI saved with ``scaler``; and a fresh model and optimiser to resume it."""

    def fresh():
        model = create_model("LPSKI", num_joints=18, width_mult=0.25, embedding_size=32, input_size=64)
        return model, torch.optim.Adam(model.parameters())

    path = save_training(tmp_path / "last.pt", *fresh(), scaler, TrainState(epoch=3), config={})
    return path, fresh()


def test_a_float32_run_resumes_with_float16_amp(tmp_path):
    """A GPU without bfloat16 (before Ampere) scales float16 gradients; the float32 or bfloat16 run it resumes
    saved no scaler state, which torch's loader refuses: the scaler starts afresh instead."""
    path, (model, optimizer) = scaled_checkpoint(tmp_path, torch.amp.GradScaler("cpu", enabled=False))
    scaler = torch.amp.GradScaler("cpu", enabled=True)  # float16 --amp, as on such a GPU
    assert load_training(path, model, optimizer, scaler).epoch == 3
    assert scaler.get_scale() == 2.0**16  # torch's initial scale


def test_a_float16_amp_run_resumes_with_its_scale(tmp_path):
    saved = torch.amp.GradScaler("cpu", init_scale=1024.0, enabled=True)
    path, (model, optimizer) = scaled_checkpoint(tmp_path, saved)
    scaler = torch.amp.GradScaler("cpu", enabled=True)
    load_training(path, model, optimizer, scaler)
    assert scaler.get_scale() == 1024.0
    load_training(path, model, optimizer, torch.amp.GradScaler("cpu", enabled=False))  # --amp dropped on resume
