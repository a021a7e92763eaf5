"""Hypothesis profiles of the fuzz tests, and a summary of their outcomes at the end of the session.

``make test`` runs the default profile: 2,000 derandomized (reproducible) examples per parser. ``make fuzz``
(``MHP_FUZZ=deep``) runs 20,000 examples per parser from a random seed.
"""

import os

from hypothesis import HealthCheck, settings

from tests.fuzz.harness import OUTCOMES

# Mutated annotation files are tens of kilobytes: generating one can exceed hypothesis's "too slow" budget
# for data generation, which is expected here and not a problem of the strategies.
SLOW_DATA = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile(
    "mhp-default", max_examples=2000, deadline=None, derandomize=True, database=None, suppress_health_check=SLOW_DATA
)
settings.register_profile("mhp-deep", max_examples=20000, deadline=None, database=None, suppress_health_check=SLOW_DATA)
settings.load_profile("mhp-deep" if os.environ.get("MHP_FUZZ") == "deep" else "mhp-default")


def pytest_terminal_summary(terminalreporter) -> None:
    if not OUTCOMES:
        return
    terminalreporter.section("fuzz outcomes (examples run: correct results / mhp's clear errors)")
    width = max(map(len, OUTCOMES))
    for name, counts in sorted(OUTCOMES.items()):
        detail = ", ".join(f"{label} {n}" for label, n in sorted(counts.items()))
        terminalreporter.write_line(f"{name.ljust(width)}  {sum(counts.values()):6d} examples: {detail}")
