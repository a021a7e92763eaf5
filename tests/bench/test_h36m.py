"""mhp-bench scores on Human3.6M protocol 2 when given the dataset (here a synthetic folder in its layout)."""

import pytest

from mhp.bench.run import collect_rows
from mhp.config import BenchConfig
from mhp.data import read_dataset

pytestmark = pytest.mark.slow


def test_h36m_protocol_2_crops_are_scored(small_relu_checkpoint, synthetic_folders):
    root, _ = synthetic_folders["h36m"]
    test_split = read_dataset("h36m", root, "test", protocol=2)
    cfg = BenchConfig(
        checkpoint=small_relu_checkpoint,
        runtimes=("torch",),
        threads=(1,),
        data=f"h36m={root}",
        samples=6,
        runs=2,
        warmup=0,
        memory=False,
        plots=False,
    )
    rows, _ = collect_rows(cfg)
    assert len(rows) == 1
    row = rows[0]
    assert row.format == "torch"
    crops = f"h36m protocol 2 (S9, S11), 6 of {len(test_split)} crops, GT boxes"
    assert row.eval_data == f"{crops}; limb prior measured on their ground truth"
    assert 0 <= row.limb_within_2sigma <= 1
    assert row.limb_error_mm > 0
    assert row.samples == 6
    assert row.mpjpe_mm > 0
    assert row.delta_mpjpe_mm == pytest.approx(0.0, abs=1e-3)
