"""What native libraries (TensorFlow, LiteRT, onnx2tf's TensorFlow, XNNPACK) write straight to the process's stderr:
kept out of a command's output unless asked for, and shown after all when the work fails."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator

SHOWN_ON_FAILURE = 20  # last lines of the hidden log printed when the work raises


@contextlib.contextmanager
def native_log(verbose: bool) -> Iterator[None]:
    """Inside: file descriptor 2 goes to a temporary file (TensorFlow's C++ logging quieted to errors as well),
    unless ``verbose``. Python's own ``sys.stderr`` objects are left alone, so mhp's messages still show."""
    if verbose:
        yield
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # read when TensorFlow loads: INFO and WARNING off
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as hidden:
        os.dup2(hidden.fileno(), 2)
        try:
            yield
        except BaseException:
            restore(saved)
            hidden.seek(0)
            tail = hidden.read().decode(errors="replace").splitlines()[-SHOWN_ON_FAILURE:]
            if tail:
                print("the converters' own log, last lines (--verbose shows it all):", file=sys.stderr)
                print("\n".join(tail), file=sys.stderr)
            raise
        else:
            restore(saved)


def restore(saved: int) -> None:
    """File descriptor 2 back to what it was."""
    with contextlib.suppress(OSError):
        sys.stderr.flush()
    os.dup2(saved, 2)
    os.close(saved)
