"""Console scripts. Each module has ``main(argv=None) -> int``; user errors print one line and exit 1."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from mhp.errors import MhpError
from mhp.util.fileio import DISK_FULL


def run_command(body: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None = None) -> int:
    """Run a command body; an :class:`MhpError` becomes ``error: <message>`` on stderr and exit code 1, and so
    does an OSError no writer turned into one (a full disk, a folder made read-only under a running command)."""
    try:
        return body(argv)
    except MhpError as exc:
        for failure in getattr(exc, "failures", ()):  # a BatchError: each bad item first
            print(f"failed: {failure}", file=sys.stderr)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {os_error_message(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def os_error_message(exc: OSError) -> str:
    """One line for an OSError: what failed, on which file, and for a full disk the fix."""
    if exc.errno in DISK_FULL:
        return f"{DISK_FULL[exc.errno]} writing {exc.filename or 'a file'}; free space or choose another output folder"
    where = f" ({exc.filename})" if exc.filename else ""
    lines = str(exc).splitlines()
    return f"{exc.strerror or (lines[0] if lines else type(exc).__name__)}{where}"
