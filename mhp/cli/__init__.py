"""Console scripts. Each module has ``main(argv=None) -> int``; user errors print one line and exit 1."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from mhp.errors import MhpError


def run_command(body: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None = None) -> int:
    """Run a command body; an :class:`MhpError` becomes ``error: <message>`` on stderr and exit code 1."""
    try:
        return body(argv)
    except MhpError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
