"""A progress line for long loops whose length is known: at most one line every few seconds, on stderr."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def bar(done: int, total: int, width: int = 20) -> str:
    """``[#####---------------]``: ``done`` of ``total`` as a fixed-width bar."""
    filled = round(width * min(done, total) / max(total, 1))
    return f"[{'#' * filled}{'-' * (width - filled)}]"


class Progress:
    """``[#####---------------] 120/480 images, 9.8/s, ETA 0:37``, printed at most every ``every_s`` seconds and
    once at the end; the stream is looked up per line (whatever stderr is at the time) unless one is given."""

    def __init__(self, total: int, unit: str, *, every_s: float = 2.0, stream: TextIO | None = None) -> None:
        self.total, self.unit, self.every_s, self.stream = max(total, 1), unit, every_s, stream
        self.done, self.started = 0, time.monotonic()
        self.shown = self.started

    def step(self, *_: object) -> None:
        """One more item done (any arguments are ignored, so it can be a writer's callback)."""
        self.done += 1
        now = time.monotonic()
        if now - self.shown >= self.every_s or self.done == self.total:
            self.shown = now
            print(self.line(now), file=self.stream or sys.stderr, flush=True)

    def line(self, now: float) -> str:
        rate = self.done / max(now - self.started, 1e-9)
        left = max(self.total - self.done, 0) / rate if rate > 0 else 0.0
        eta = f", ETA {int(left // 60)}:{int(left % 60):02d}" if self.done < self.total else ""
        return f"{bar(self.done, self.total)} {self.done}/{self.total} {self.unit}, {rate:.1f}/s{eta}"
