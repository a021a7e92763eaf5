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


def test_the_image_gate_passes_the_oracle_and_fails_mirrored_noisy_and_unit_wrong_candidates():
    """Ground-truth voxels (an oracle) plus a model's worth of error as the reference, so the gate's verdicts have an
    independent answer."""
    import mhp
    from mhp.data.dataset import PoseDataset
    from mhp.data.synthetic import SyntheticHumans
    from mhp.eval.parity import HELD_OUT_SEED, Reference, accuracy_mm, compare_outputs, parity_set

    model = mhp.create_model("LPSKI", width_mult=0.25, input_size=64)
    source = SyntheticHumans(48, joint_set=model.joint_set, seed=HELD_OUT_SEED, image_size=(128, 128))
    data = parity_set(model, source)
    targets = PoseDataset(source, model.joint_set, data.crop, train=False)
    oracle = np.stack([targets.sample(i)["joints"].numpy() for i in range(len(source))]).astype(np.float64)
    camera = data.to_camera(oracle)
    scores = accuracy_mm(data, camera)
    assert scores["mpjpe"] < 0.5  # the oracle through the camera conversion recovers the ground truth
    rng = np.random.default_rng(0)
    model_like = oracle + rng.normal(0, 0.3, oracle.shape)  # a float32 model's own error, tens of mm
    camera = data.to_camera(model_like)
    scores = accuracy_mm(data, camera)
    assert 20 < scores["mpjpe"] < 200
    reference = Reference("torch", model_like, camera, scores["mpjpe"], scores["pa_mpjpe"])
    for precision in ("fp32", "fp16", "int8"):
        close = model_like + rng.normal(0, 1e-4, oracle.shape)
        assert compare_outputs(reference, close, "close", data, BUDGETS[precision])["passed"], precision
    broken = {
        "mirrored": model_like[:, model.joint_set.flip_permutation()],
        "noisy": model_like + rng.normal(0, 1.0, oracle.shape),
        "patch pixels, not voxels": model_like * (model.input_size / model.heatmap_size[0]),
        "nan": np.where(np.arange(18)[None, :, None] == 3, np.nan, model_like),
        "constant": np.broadcast_to(model_like[:1], oracle.shape).copy(),
    }
    for precision in ("fp32", "fp16", "int8"):
        for name, candidate in broken.items():
            report = compare_outputs(reference, candidate, name, data, BUDGETS[precision])
            assert report["passed"] is False, (precision, name)
            assert report["failures"], (precision, name)
