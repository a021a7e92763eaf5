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
