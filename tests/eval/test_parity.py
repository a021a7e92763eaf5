"""One budget type for image models and lifters: its two ΔMPJPE rules, fractions of the reference's MPJPE, and one
health check that names the unit of what collapsed."""

import numpy as np
import pytest

from mhp.eval.parity import BUDGETS, LIFT_BUDGETS, Budget, LiftParitySet, ParitySet, health_failures
from mhp.skeleton import H36M


def test_image_limits_apply_each_and_lifter_limits_the_larger():
    assert Budget(delta_mpjpe_mm=1.5, delta_mpjpe_fraction=0.015).limits(200.0) == {
        "delta_mpjpe_mm": 1.5,
        "delta_mpjpe_fraction": 0.015,
    }
    assert LIFT_BUDGETS["int8"].limits(100.0) == pytest.approx({"mean_mm": 35.0, "delta_mpjpe_mm": 2.0})
    assert LIFT_BUDGETS["int8"].limits(50.0) == pytest.approx({"mean_mm": 17.5, "delta_mpjpe_mm": 1.5})
    assert LIFT_BUDGETS["fp16"].limits(80.0) == {"mean_mm": 2.0, "delta_mpjpe_mm": 0.5}
    assert BUDGETS["fp32"].limits(130.0) == {"max_voxel": 1e-3}
    assert Budget().limits(130.0) == {}
    assert set(BUDGETS) == set(LIFT_BUDGETS) == {"fp32", "fp16", "dynamic", "int8"}


def test_health_names_nan_constant_and_collapse_in_the_outputs_unit():
    rng = np.random.default_rng(0)
    reference = rng.normal(0, 300, (8, 18, 3))
    lift = LiftParitySet(np.zeros((8, 18, 2), np.float32), reference, H36M, "test")
    assert health_failures(reference, reference, lift) == []
    nan = reference.copy()
    nan[2, 5, 0] = np.nan
    assert health_failures(nan, reference, lift) == ["non-finite outputs in 1 samples"]
    constant = np.broadcast_to(reference[:1], reference.shape)
    failures = health_failures(constant, reference, lift)
    assert failures == ["constant output: every 2D pose gives the same pose"]
    collapsed = health_failures(reference * 0.1, reference, lift)
    assert len(collapsed) == 1
    assert collapsed[0].startswith("collapsed output: joints spread")
    assert collapsed[0].endswith(" mm")
    assert (ParitySet.units, ParitySet.one_input, LiftParitySet.units) == ("voxels", "crop", "mm")
