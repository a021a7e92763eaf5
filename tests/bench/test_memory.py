"""mhp-bench's memory measurement against allocations of known size (the kernel's high-water mark after a reset)."""

import json
import subprocess
import sys

import pytest

from mhp.bench.memory import status_kb

pytestmark = pytest.mark.skipif(status_kb("VmHWM") is None, reason="needs Linux's /proc/self/status")

CHILD = """
import json, numpy as np
from mhp.bench.memory import reset_peak, status_kb
before = np.ones(300 * 2**20 // 8)  # 300 MiB touched, then freed: the peak a reset must forget
del before
baseline = reset_peak()
known = np.ones({mib} * 2**20 // 8)  # {mib} MiB touched
print(json.dumps({{"peak_mb": (status_kb("VmHWM") - baseline) / 1024}}))
"""


@pytest.mark.parametrize("mib", [64, 200])
def test_a_known_allocation_is_measured_within_5_percent(mib):
    """Mutation tried: reset_peak not writing /proc/self/clear_refs measures ~300 MiB for both and fails."""
    done = subprocess.run([sys.executable, "-c", CHILD.format(mib=mib)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    peak = json.loads(done.stdout.splitlines()[-1])["peak_mb"]
    assert peak == pytest.approx(mib, rel=0.05)
