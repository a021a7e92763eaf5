"""The One-Euro filter: still signals lose their jitter, fast moves keep up."""

import numpy as np
import pytest

from mhp.infer.smoothing import OneEuroFilter, smoothing_factor


def test_first_sample_and_constants_pass_through():
    f = OneEuroFilter()
    np.testing.assert_array_equal(f.filter(np.array([3.0, -1.0]), 0.0), [3.0, -1.0])
    for t in np.arange(1, 20) / 30:
        out = f.filter(np.array([3.0, -1.0]), t)
    np.testing.assert_allclose(out, [3.0, -1.0])


def test_jitter_at_rest_is_reduced():
    rng = np.random.default_rng(0)
    noisy = 100 + rng.normal(0, 2.0, size=(300, 17, 2))
    f = OneEuroFilter(min_cutoff=1.0, beta=0.0)
    smooth = np.stack([f.filter(frame, i / 30) for i, frame in enumerate(noisy)])
    assert smooth[50:].std() < 0.4 * noisy[50:].std()


def test_speed_raises_the_cutoff_so_fast_moves_lag_less():
    t = np.arange(60) / 30
    ramp = 300.0 * t  # 300 px/s
    lag = {}
    for beta in (0.0, 0.05):
        f = OneEuroFilter(min_cutoff=0.5, beta=beta)
        out = np.array([f.filter(np.array([v]), s)[0] for v, s in zip(ramp, t, strict=True)])
        lag[beta] = ramp[-1] - out[-1]
    assert lag[0.05] < 0.3 * lag[0.0]


def test_factor_and_arguments():
    assert smoothing_factor(1.0, 1 / 30) == pytest.approx(1 / (1 + 30 / (2 * np.pi)))
    with pytest.raises(ValueError, match="min_cutoff > 0"):
        OneEuroFilter(min_cutoff=0)
    f = OneEuroFilter()
    f.filter(np.zeros(3), 0.0)
    np.testing.assert_array_equal(f.filter(np.ones(4), 0.1), np.ones(4))  # a new shape starts over
