"""Original MobileHumanPose / 3DMPPE snapshots load into mhp models and give the original outputs."""

import pytest
import torch

import mhp
from mhp.errors import CheckpointError
from tests.models.original_reference import DEPTH, original_logits, original_soft_argmax, original_state


def write_snapshot(path, state, epoch=24):
    """A snapshot as the original trainer writes it: {epoch, network, optimizer}."""
    optimizer = {"state": {}, "param_groups": [{"lr": 1e-5, "betas": (0.9, 0.999), "params": [0, 1]}]}
    torch.save({"epoch": epoch, "network": state, "optimizer": optimizer}, path)
    return path


CASES = [
    ("LPSKI", 18, 1.0),
    ("LPSKI", 21, 0.5),
    ("LPSKI_LARGE", 18, 1.0),
    ("LPWO", 18, 1.0),
    ("LPRES", 18, 1.0),
    pytest.param("RESNET50", 21, 1.0, marks=pytest.mark.slow),
]


@pytest.mark.parametrize(("arch", "joints", "width"), CASES)
def test_original_snapshot_gives_original_outputs(tmp_path, arch, joints, width):
    state = original_state(arch, joints, width, seed=1)
    assert len(state) == (338 if arch == "RESNET50" else 397)  # tensor count of reference §14
    path = write_snapshot(tmp_path / "snapshot_24.pth.tar", state)
    kwargs = {} if width == 1.0 else {"width_mult": width}
    model = mhp.load_checkpoint(path, model=arch, **kwargs)  # joint count read from the weights
    assert not model.training
    assert model.num_joints == joints
    assert model.normalization == "legacy"

    x = torch.randn(2, 3, 256, 256, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    ref_state = {k: v.double() if v.is_floating_point() else v for k, v in state.items()}
    with torch.no_grad():
        ref_logits = original_logits(ref_state, arch, x, width)
        logits = model.double().forward_heatmaps(x)
        coords = model(x)
    assert logits.shape == ref_logits.shape
    scale = ref_logits.abs().max()
    assert torch.allclose(logits, ref_logits, atol=1e-9 * scale, rtol=1e-9)
    ref_coords = original_soft_argmax(ref_logits, joints, DEPTH[arch])
    assert torch.allclose(coords.double(), ref_coords, atol=1e-4)


def test_bare_dataparallel_state_dict_loads(tmp_path):
    state = original_state("LPSKI", 18)
    path = tmp_path / "network.pth"
    torch.save(state, path)
    model = mhp.load_checkpoint(path, model="lpski")
    assert torch.equal(model.backbone.final_layer.bias, state["module.backbone.final_layer.bias"])


def test_lpres_typo_keys_are_mapped(tmp_path):
    state = original_state("LPRES", 18)
    assert "module.backbone.deonv0.0.weight" in state
    assert state["module.backbone.deonv0.0.weight"].shape == (256, 2368, 1, 1)
    model = mhp.load_checkpoint(write_snapshot(tmp_path / "s.pth.tar", state), model="LPRES")
    assert torch.equal(model.backbone.deconv0[0].weight, state["module.backbone.deonv0.0.weight"])


def test_21_joint_snapshot_into_18_joint_model_says_so(tmp_path):
    path = write_snapshot(tmp_path / "s.pth.tar", original_state("LPSKI", 21))
    with pytest.raises(CheckpointError) as err:
        mhp.load_checkpoint(path, model="LPSKI", num_joints=18)
    msg = str(err.value)
    assert "\n" not in msg
    assert "backbone.final_layer.weight: checkpoint (672, 256, 1, 1) vs model (576, 256, 1, 1)" in msg
    assert "21 joints" in msg
    assert "num_joints=21" in msg


def test_width_mismatch_names_the_stem(tmp_path):
    path = write_snapshot(tmp_path / "s.pth.tar", original_state("LPSKI", 18, width=0.5))
    with pytest.raises(CheckpointError, match=r"stem has 24 channels.*width_mult"):
        mhp.load_checkpoint(path, model="LPSKI")


def test_wrong_architecture_is_rejected(tmp_path):
    path = write_snapshot(tmp_path / "s.pth.tar", original_state("LPSKI", 18))
    with pytest.raises(CheckpointError, match=r"deconv0\.0\.weight: checkpoint \(96, 2144, 1, 1\) vs model"):
        mhp.load_checkpoint(path, model="LPWO", num_joints=9)


def test_lpski_snapshot_is_not_taken_for_lpski_large(tmp_path):
    # 576 channels = 9 joints x 64 bins would load silently; no joint set has 9 joints.
    path = write_snapshot(tmp_path / "s.pth.tar", original_state("LPSKI", 18))
    with pytest.raises(CheckpointError, match="LPSKI with 18 joints"):
        mhp.load_checkpoint(path, model="LPSKI_LARGE")


def test_relu_variant_cannot_take_prelu_weights():
    from mhp.models.convert import original_to_mhp_state
    from mhp.models.state import load_state_strict

    state = original_to_mhp_state({"network": original_state("LPSKI", 18)})
    relu_model = mhp.create_model("LPSKI", activation="relu")
    with pytest.raises(CheckpointError, match=r"unexpected keys \(backbone\.first_conv\.2\.weight"):
        load_state_strict(relu_model, state, source="snapshot")


def test_original_snapshot_needs_model_name(tmp_path):
    path = write_snapshot(tmp_path / "s.pth.tar", original_state("LPSKI", 18))
    with pytest.raises(CheckpointError, match="pass --backbone \\(model= in Python\\)"):
        mhp.load_checkpoint(path)
