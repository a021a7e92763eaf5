"""Model cards: MACs counted by torch agree with the hand-counted convolution MACs of reference §3.8."""

import pytest

from mhp.models.card import model_card

# Pure convolution MACs from reference §3.8 (J=18, 256x256); thop's larger figures include BN etc.
SPEC_CONV_GMACS = {"LPSKI": 0.476, "LPWO": 5.27, "LPRES": 11.1}


@pytest.mark.parametrize(("name", "gmacs"), SPEC_CONV_GMACS.items())
def test_macs_match_spec_conv_macs(name, gmacs):
    card = model_card(name, repeats=1)
    assert card.macs / 1e9 == pytest.approx(gmacs, rel=0.01)
    assert card.volume == ((18, 32, 32, 32) if name == "LPSKI" else (18, 64, 64, 64))
    assert card.forward_ms > 0
    assert card.threads >= 1


def test_resnet50_transposed_convs_are_counted_per_input_pixel():
    # ResNet-50 at 256x256 (4.09 GMACs at 224 scaled by (256/224)^2) + deconvs + final 1x1 conv
    resnet = 4.0889e9 * (256 / 224) ** 2
    deconvs = 2048 * 256 * 16 * 8 * 8 + 256 * 256 * 16 * (16 * 16 + 32 * 32)
    final = 256 * 18 * 64 * 64 * 64
    card = model_card("RESNET50", repeats=1)
    assert card.macs == pytest.approx(resnet + deconvs + final, rel=0.01)
    assert card.activation == "relu"
