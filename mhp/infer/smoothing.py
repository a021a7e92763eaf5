"""The One-Euro filter (Casiez et al., CHI 2012): little lag when joints move fast, little jitter when still."""

from __future__ import annotations

import math

import numpy as np


def smoothing_factor(cutoff_hz: float | np.ndarray, dt: float) -> float | np.ndarray:
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """Filters arrays of any fixed shape, element by element; ``filter(values, t)`` with ``t`` in seconds.

    ``min_cutoff`` (Hz) sets the smoothing at rest, ``beta`` how fast the cutoff rises with speed,
    ``d_cutoff`` (Hz) the smoothing of the speed estimate. ``reset()`` starts over (e.g. a new person).
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.05, d_cutoff: float = 1.0) -> None:
        if min_cutoff <= 0 or beta < 0 or d_cutoff <= 0:
            raise ValueError("One-Euro filter needs min_cutoff > 0, beta >= 0 and d_cutoff > 0")
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self.reset()

    def reset(self) -> None:
        self.value: np.ndarray | None = None
        self.speed: np.ndarray | None = None
        self.time: float | None = None

    def filter(self, values: np.ndarray, t: float) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        if self.value is None or self.value.shape != values.shape or self.time is None or t <= self.time:
            self.value, self.speed, self.time = values.copy(), np.zeros_like(values), t
            return values.copy()
        dt = t - self.time
        speed = (values - self.value) / dt
        a_d = smoothing_factor(self.d_cutoff, dt)
        self.speed = a_d * speed + (1 - a_d) * self.speed
        cutoff = self.min_cutoff + self.beta * np.abs(self.speed)
        a = smoothing_factor(cutoff, dt)
        self.value = a * values + (1 - a) * self.value
        self.time = t
        return self.value.copy()
