"""A full disk: one clear error line naming the file and the fix, and the previous files intact. Simulated in
process (writes or fsync raising ENOSPC) and for real in a child process (RLIMIT_FSIZE: writes fail with EFBIG)."""

import errno
import os
import resource
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import mhp.models.checkpoint
from mhp.cli.export import main as export_main
from mhp.cli.train import main as train_main
from mhp.errors import DiskFullError
from mhp.models import create_model
from mhp.models.checkpoint import save_checkpoint
from mhp.util.fileio import write_text_atomic
from tests.train.conftest import tiny_flags

FIX = "free space or choose another output folder"
ONNX = "lpski_fp32.onnx"
LIMIT = 1 << 20  # bytes: below a checkpoint (2-6 MB) and an ONNX file (1.8 MB), above logs and manifests


def no_space(*_):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def fsync_without_space(real):
    """``os.fsync`` that fails like a full disk for files (not for the folder synced after the rename)."""

    def fsync(fd):
        if stat.S_ISREG(os.fstat(fd).st_mode):
            no_space()
        return real(fd)

    return fsync


def open_without_space(after: int):
    """``open`` whose files accept ``after`` bytes, then fail like a full disk."""

    class Full:
        def __init__(self, file):
            self.file, self.written = file, 0

        def write(self, data):
            self.written += len(data)
            if self.written > after:
                no_space()
            return self.file.write(data)

        def __getattr__(self, name):
            return getattr(self.file, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.file.close()

    return lambda *args, **kwargs: Full(open(*args, **kwargs))


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def tiny_model():
    return create_model("LPSKI", width_mult=0.25, embedding_size=32, input_size=64)


def test_atomic_writes_raise_one_line_and_keep_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "config.yaml"
    target.write_text("old")
    monkeypatch.setattr(os, "fsync", fsync_without_space(os.fsync))
    with pytest.raises(DiskFullError) as caught:
        write_text_atomic(target, "new")
    assert (
        str(caught.value) == f"no space left on the device writing {target}; {FIX} (the previous config.yaml is intact)"
    )
    assert folder_bytes(tmp_path) == {"config.yaml": b"old"}
    with pytest.raises(DiskFullError, match=r"writing \S+/fresh\.json; .* \(no fresh\.json was written\)$"):
        write_text_atomic(tmp_path / "fresh.json", "{}")


def test_a_checkpoint_that_does_not_fit_keeps_the_previous_one(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "last.pt", tiny_model())
    before = path.read_bytes()
    monkeypatch.setattr(mhp.models.checkpoint, "open", open_without_space(after=100_000), raising=False)
    with pytest.raises(DiskFullError, match=rf"^no space left on the device writing {path}; {FIX} \(the previous"):
        save_checkpoint(path, tiny_model())
    assert folder_bytes(tmp_path) == {"last.pt": before}


@pytest.mark.slow
def test_training_on_a_full_disk_stops_with_one_line(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    flags = [*tiny_flags(synthetic_samples=16, batch_size=4, max_steps_per_epoch=2), "--out", str(out)]
    assert train_main([*flags, "--epochs", "1"]) == 0
    before = folder_bytes(out)
    capsys.readouterr()
    monkeypatch.setattr(mhp.models.checkpoint, "open", open_without_space(after=100_000), raising=False)
    assert train_main([*flags, "--epochs", "2", "--resume", "auto"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert (
        err[-1]
        == f"error: no space left on the device writing {out / 'last.pt'}; {FIX} (the previous last.pt is intact)"
    )
    assert folder_bytes(out)["last.pt"] == before["last.pt"]
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


@pytest.fixture(scope="module")
def old_export(tmp_path_factory):
    """An ONNX export of one model (the files a failed export must leave alone) and a checkpoint of another."""
    folder = tmp_path_factory.mktemp("full-disk")
    torch.manual_seed(0)
    old = save_checkpoint(folder / "old.pt", tiny_model())
    torch.manual_seed(1)
    new = save_checkpoint(folder / "new.pt", tiny_model())
    out = folder / "export"
    onnx_fp32 = ["--target", "onnx", "--precision", "fp32"]
    assert export_main(["--no-check", "--checkpoint", str(old), *onnx_fp32, "--out", str(out)]) == 0
    return out, ["--no-check", "--checkpoint", str(new), *onnx_fp32]


@pytest.mark.slow
def test_an_export_on_a_full_disk_stops_with_one_line(old_export, tmp_path, monkeypatch, capsys):
    out, argv = old_export
    before = folder_bytes(out)
    capsys.readouterr()
    monkeypatch.setattr(os, "fsync", fsync_without_space(os.fsync))
    assert export_main([*argv, "--out", str(out)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [f"error: no space left on the device writing {out / ONNX}; {FIX} (the previous {ONNX} is intact)"]
    assert folder_bytes(out) == before
    assert not [p.name for p in out.iterdir() if p.name.startswith(".mhp-export-")]


def limited(size: int):
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


@pytest.mark.slow
def test_a_real_file_size_limit_stops_training_and_keeps_the_checkpoint(tmp_path):
    out = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "mhp.cli.train",
        *tiny_flags(synthetic_samples=16, batch_size=4),
        "--out",
        str(out),
    ]
    assert (
        subprocess.run([*command, "--epochs", "1", "--max-steps-per-epoch", "2"], capture_output=True).returncode == 0
    )
    before = folder_bytes(out)
    assert len(before["last.pt"]) > LIMIT
    resumed = [*command, "--epochs", "2", "--max-steps-per-epoch", "2", "--resume", "auto"]
    done = subprocess.run(resumed, capture_output=True, text=True, preexec_fn=limited(LIMIT), timeout=300)
    assert done.returncode == 1, done.stderr[-2000:]
    line = done.stderr.splitlines()[-1]
    print(line)
    assert line == (
        f"error: file size limit exceeded writing {out / 'last.pt'}; raise the limit (ulimit -f), {FIX} "
        "(the previous last.pt is intact)"
    )
    assert folder_bytes(out)["last.pt"] == before["last.pt"]
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.slow
def test_a_real_file_size_limit_stops_an_export_and_keeps_the_old_files(old_export):
    out, argv = old_export
    before = folder_bytes(out)
    command = [sys.executable, "-m", "mhp.cli.export", *argv, "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, preexec_fn=limited(LIMIT), timeout=300)
    assert done.returncode == 1, done.stderr[-2000:]
    line = done.stderr.splitlines()[-1]
    print(line)
    assert line == (
        f"error: file size limit exceeded writing {out / ONNX}; raise the limit (ulimit -f), {FIX} "
        f"(the previous {ONNX} is intact)"
    )
    assert folder_bytes(out) == before
    assert not [p.name for p in out.iterdir() if p.name.startswith(".mhp-export-")]
