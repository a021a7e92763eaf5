"""Registry, exact parameter counts (reference §14) and the model options."""

import pytest
import torch

import mhp
from mhp.errors import MhpError
from mhp.models import model_arguments
from mhp.models.card import count_parameters

# name, kwargs, trainable parameters, heatmap logits shape for one image
SPEC_COUNTS = [
    ("LPSKI", {}, 3_500_064, (576, 32, 32)),
    ("LPSKI", {"num_joints": 21, "width_mult": 0.5}, 1_389_008, (672, 32, 32)),
    ("LPSKI", {"num_joints": 21}, 3_524_736, (672, 32, 32)),
    ("LPSKI", {"num_joints": 17}, 3_491_840, (544, 32, 32)),
    ("LPSKI_LARGE", {}, 3_648_096, (1152, 64, 64)),
    ("LPSKI_LARGE", {"num_joints": 21}, 3_697_440, (1344, 64, 64)),
    ("LPWO", {}, 4_034_336, (1152, 64, 64)),
    ("LPWO", {"num_joints": 21}, 4_083_680, (1344, 64, 64)),
    ("LPRES", {}, 7_253_888, (1152, 64, 64)),
    ("LPRES", {"num_joints": 21}, 7_303_232, (1344, 64, 64)),
    ("RESNET50", {}, 34_291_392, (1152, 64, 64)),
    ("RESNET50", {"num_joints": 21}, 34_340_736, (1344, 64, 64)),
]


@pytest.mark.parametrize(("name", "kwargs", "params", "_shape"), SPEC_COUNTS)
def test_parameter_counts_match_spec(name, kwargs, params, _shape):
    assert count_parameters(mhp.create_model(name, **kwargs)) == params


@pytest.mark.parametrize(("name", "kwargs", "_params", "shape"), SPEC_COUNTS[::2])
def test_forward_shapes(name, kwargs, _params, shape):
    model = mhp.create_model(name, **kwargs).eval()
    x = torch.randn(2, 3, 256, 256)
    with torch.no_grad():
        logits = model.forward_heatmaps(x)
        coords = model(x)
    assert logits.shape == (2, *shape)
    assert coords.shape == (2, model.num_joints, 3)
    assert model.num_joints * model.depth_bins == shape[0]
    assert model.heatmap_size == (shape[2], shape[1])


def test_list_models_and_case_insensitive_names():
    assert mhp.list_models("pose") == ["LPSKI", "LPSKI_LARGE", "LPWO", "LPRES", "RESNET50"]
    assert mhp.list_models() == [*mhp.list_models("pose"), "LIFT_MLP"]
    assert mhp.create_model("lpski").model_name == "LPSKI"


def test_unknown_name_suggests_closest():
    with pytest.raises(MhpError, match="did you mean LPSKI"):
        mhp.create_model("LPSK")
    with pytest.raises(MhpError, match="did you mean RESNET50"):
        mhp.create_model("resnet")


def test_unknown_argument_is_named():
    with pytest.raises(MhpError, match="RESNET50 does not take width_mult"):
        mhp.create_model("RESNET50", width_mult=0.5)
    with pytest.raises(MhpError, match="unknown activation 'gelu'"):
        mhp.create_model("LPSKI", activation="gelu")
    with pytest.raises(MhpError, match="must be positive"):
        mhp.create_model("LPWO", num_joints=0)


def test_recorded_arguments_rebuild_the_model():
    model = mhp.create_model("LPWO", num_joints=21, width_mult=0.75, activation="relu6")
    assert model.model_kwargs == model_arguments("LPWO", num_joints=21, width_mult=0.75, activation="relu6")
    assert model.model_kwargs["embedding_size"] == 2048
    assert model.model_kwargs["normalization"] == "legacy"
    twin = mhp.create_model(model.model_name, **model.model_kwargs)
    assert {k: v.shape for k, v in twin.state_dict().items()} == {k: v.shape for k, v in model.state_dict().items()}


@pytest.mark.parametrize("name", ["LPSKI", "LPWO", "LPRES"])
@pytest.mark.parametrize("width", [0.5, 0.75, 1.4])
def test_width_mult_scales_the_network(name, width):
    base = count_parameters(mhp.create_model(name))
    model = mhp.create_model(name, width_mult=width).eval()
    assert (count_parameters(model) < base) == (width < 1.0)
    with torch.no_grad():
        assert model(torch.randn(1, 3, 256, 256)).shape == (1, 18, 3)


@pytest.mark.parametrize("activation", ["relu", "relu6"])
def test_deployment_activations_replace_every_prelu(activation):
    prelu = mhp.create_model("LPSKI")
    model = mhp.create_model("LPSKI", activation=activation)
    n_prelu = sum(isinstance(m, torch.nn.PReLU) for m in prelu.modules())
    assert n_prelu == 41  # the 41 PReLUs that fall off the INT8 XNNPACK delegate
    assert not any(isinstance(m, torch.nn.PReLU) for m in model.modules())
    kind = torch.nn.ReLU if activation == "relu" else torch.nn.ReLU6
    assert sum(type(m) is kind for m in model.modules()) == n_prelu
    # same tensors apart from the PReLU slopes
    slopes = {k for k in prelu.state_dict() if k not in model.state_dict()}
    assert len(slopes) == n_prelu
    assert all(k.endswith(".weight") for k in slopes)


def test_input_size_option():
    model = mhp.create_model("LPSKI", input_size=192).eval()
    assert model.heatmap_size == (24, 24)
    with torch.no_grad():
        assert model(torch.randn(1, 3, 192, 192)).shape == (1, 18, 3)
    with pytest.raises(MhpError, match="multiple of 64"):
        mhp.create_model("LPSKI", input_size=200)


def test_normalization_contract():
    pixels = torch.full((1, 3, 2, 2), 255.0)
    legacy = mhp.create_model("LPSKI").normalize(pixels)
    unit = mhp.create_model("LPSKI", normalization="unit").normalize(pixels)
    assert torch.allclose(
        legacy[0, :, 0, 0], (255 - torch.tensor([0.485, 0.456, 0.406])) / torch.tensor([0.229, 0.224, 0.225])
    )
    assert torch.allclose(
        unit[0, :, 0, 0], (1 - torch.tensor([0.485, 0.456, 0.406])) / torch.tensor([0.229, 0.224, 0.225])
    )
    with pytest.raises(MhpError, match="unknown normalization"):
        mhp.create_model("LPSKI", normalization="zero_one")


def test_training_init_follows_the_original():
    model = mhp.create_model("LPSKI")
    stem = model.backbone.first_conv[0].weight
    assert abs(stem.std().item() - 0.001) < 2e-4
    assert torch.all(model.backbone.final_layer.bias == 0)
    assert torch.all(model.backbone.first_conv[2].weight == 0.25)


def test_models_train_end_to_end():
    """Gradients reach the stem through the soft-argmax for every LPNet."""
    for name in ("LPSKI", "LPSKI_LARGE"):
        model = mhp.create_model(name, width_mult=0.5, embedding_size=64).train()
        coords = model(torch.randn(2, 3, 256, 256))
        coords.sum().backward()
        assert model.backbone.first_conv[0].weight.grad.abs().sum() > 0


def test_resnet_loads_torchvision_imagenet_weights(tmp_path):
    from mhp.models.resnet import ResNetBackbone

    source = ResNetBackbone()
    state = {k: torch.randn_like(v) if v.is_floating_point() else v for k, v in source.state_dict().items()}
    state["fc.weight"], state["fc.bias"] = torch.randn(1000, 2048), torch.randn(1000)
    torch.save(state, tmp_path / "resnet50-imagenet.pth")
    model = mhp.create_model("RESNET50")
    model.backbone.load_imagenet(tmp_path / "resnet50-imagenet.pth")
    assert torch.equal(model.backbone.layer3[2].conv2.weight, state["layer3.2.conv2.weight"])
    del state["layer4.2.bn3.running_var"]
    torch.save(state, tmp_path / "broken.pth")
    with pytest.raises(mhp.CheckpointError, match=r"missing from the checkpoint \(layer4\.2\.bn3\.running_var"):
        model.backbone.load_imagenet(tmp_path / "broken.pth")
    with pytest.raises(mhp.CheckpointError, match="not found"):
        model.backbone.load_imagenet(tmp_path / "absent.pth")


def test_full_model_exports_and_traces_cleanly():
    """torch.export (the ONNX route) and jit.trace (the CoreML route) both capture the whole model."""
    import warnings

    model = mhp.create_model("LPSKI", activation="relu").eval()
    x = torch.randn(1, 3, 256, 256)
    with torch.no_grad():
        expected = model(x)
        exported = torch.export.export(model, (x,)).module()
        assert torch.allclose(exported(x), expected, atol=1e-5)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # jit.trace is deprecated in torch 2.13
            warnings.simplefilter("error", torch.jit.TracerWarning)
            traced = torch.jit.trace(model, x)
        assert torch.allclose(traced(x), expected, atol=1e-5)


def test_joint_set_is_recorded_and_checked():
    assert mhp.create_model("LPSKI").joint_set.name == "H36M"
    assert mhp.create_model("LPSKI", num_joints=21).joint_set.name == "MUCO"
    assert mhp.create_model("LPSKI", num_joints=17, joint_set="mupots").model_kwargs["joint_set"] == "mupots"
    assert mhp.create_model("LPSKI", num_joints=5).joint_set is None  # a custom skeleton
    with pytest.raises(MhpError, match="joint set MUCO has 21 joints but num_joints is 18"):
        mhp.create_model("LPWO", joint_set="MUCO")
