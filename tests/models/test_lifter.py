import pytest
import torch

from mhp.errors import MhpError
from mhp.models.lifter import LiftMLP, PoseCritic


def test_martinez_layout_and_parameter_count():
    lifter = LiftMLP(17, output="xyz")  # Martinez et al.: 16 inputs + root, 1024 wide, two blocks: ~4.3M
    linears = [m for m in lifter.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(34, 1024)] + [(1024, 1024)] * 4 + [(1024, 51)]
    params = sum(p.numel() for p in lifter.parameters())
    expected = 34 * 1024 + 1024 + 4 * (1024 * 1024 + 1024) + 1024 * 51 + 51 + 5 * 2 * 1024  # + BN weight/bias
    assert params == expected


@pytest.mark.parametrize(("output", "shape"), [("depth", (3, 18)), ("xyz", (3, 18, 3))])
def test_output_shapes_and_depth(output, shape):
    lifter = LiftMLP(18, output=output, width=64, blocks=3).eval()
    assert lifter(torch.zeros(3, 18, 2)).shape == shape
    assert len(lifter.mlp.blocks) == 3
    assert PoseCritic(18, width=16)(torch.zeros(3, 18, 2)).shape == (3,)


def test_bad_options_and_inputs_are_clear_errors():
    with pytest.raises(MhpError, match="unknown lifter output"):
        LiftMLP(18, output="mesh")
    with pytest.raises(MhpError, match="dropout"):
        LiftMLP(18, dropout=1.0)
    with pytest.raises(MhpError, match=r"expects 2D joints \(N, 18, 2\)"):
        LiftMLP(18, width=8)(torch.zeros(2, 17, 2))


def test_lift_mlp_is_registered_for_the_lift_task():
    import mhp
    from mhp.models import model_task

    assert mhp.list_models("lift") == ["LIFT_MLP"]
    assert "LIFT_MLP" not in mhp.list_models("pose")
    assert model_task("lift_mlp") == "lift"
    model = mhp.create_model("LIFT_MLP", width=32, joint_set="MPII", num_joints=16)
    assert (model.joint_set.name, model.root, model.head) == ("MPII", 6, 9)
    with pytest.raises(MhpError, match="has 18 joints but num_joints is 16"):
        mhp.create_model("LIFT_MLP", num_joints=16, joint_set="H36M")


def test_lifting_model_rebuilds_depths_into_millimetres():
    import mhp
    from mhp.models.lift_geometry import lift_to_camera

    torch.manual_seed(0)
    model = mhp.create_model("LIFT_MLP", width=32, dropout=0.0, unit_mm=700.0).eval()
    pixels = torch.rand(5, 18, 2) * 400 + 100
    uv, _ = model.normalize(pixels)
    assert torch.allclose(uv[:, 0], torch.zeros(5, 2))
    assert torch.allclose(uv[:, model.head].norm(dim=-1), torch.full((5,), 0.1))  # head 1/c from the root
    with torch.no_grad():
        pose = model(uv)
        lifted = lift_to_camera(uv, model.net(uv), 0)
    torch.testing.assert_close(pose, (lifted - lifted[:, :1]) * 700.0)
    torch.testing.assert_close(model.lift(pixels * 3 + 50), pose, rtol=1e-4, atol=1e-3)  # scale and shift free
    xyz = mhp.create_model("LIFT_MLP", output="xyz", width=32).eval()
    assert torch.all(xyz(uv)[:, 0] == 0)  # root-relative by construction
