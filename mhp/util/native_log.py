"""What native libraries (TensorFlow, LiteRT, onnx2tf's TensorFlow, XNNPACK) write straight to the process's stderr:
kept out of a command's output unless asked for, and shown after all when the work fails."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
from collections.abc import Iterator
from typing import TextIO

from mhp.errors import MhpError

SHOWN_ON_FAILURE = 20  # last lines of the hidden log printed when the work raises


def on_descriptor_2(stream: TextIO) -> bool:
    """Whether ``stream`` writes to file descriptor 2 (the process's stderr, not a test's capture)."""
    try:
        return stream.fileno() == 2
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return False


@contextlib.contextmanager
def native_log(verbose: bool) -> Iterator[None]:
    """Inside: file descriptor 2 goes to a temporary file (TensorFlow's C++ logging quieted to errors as well),
    unless ``verbose``; Python's ``sys.stderr`` is moved to a copy of the real stderr, so mhp's own messages show."""
    if verbose:
        yield
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # read when TensorFlow loads: INFO and WARNING off
    python_stderr = sys.stderr
    python_stderr.flush()
    saved = os.dup(2)
    if on_descriptor_2(python_stderr):
        sys.stderr = open(os.dup(saved), "w", buffering=1, errors="backslashreplace")  # noqa: SIM115
    with tempfile.TemporaryFile() as hidden:
        os.dup2(hidden.fileno(), 2)
        try:
            yield
        except BaseException as exc:
            restore(saved, python_stderr)
            hidden.seek(0)
            tail = hidden.read().decode(errors="replace").splitlines()[-SHOWN_ON_FAILURE:]
            if tail and not isinstance(exc, MhpError | KeyboardInterrupt):  # mhp's own errors say what to fix
                print("the native libraries' own log, last lines (--verbose shows it all):", file=sys.stderr)
                print("\n".join(tail), file=sys.stderr)
            raise
        else:
            restore(saved, python_stderr)


def restore(saved: int, python_stderr: TextIO) -> None:
    """File descriptor 2 and ``sys.stderr`` back to what they were."""
    if sys.stderr is not python_stderr:
        with contextlib.suppress(OSError):
            sys.stderr.close()
        sys.stderr = python_stderr
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    os.dup2(saved, 2)
    os.close(saved)
