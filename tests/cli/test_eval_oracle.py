"""The evaluation chain end to end: ``mhp-eval`` given a perfect model (the ground-truth voxels of every crop it
feeds) scores ~0 mm on both Human3.6M protocols and 3DPCK 100 on MuPoTS-3D; the model is also exactly mirror-
symmetric, so the exact flip test changes nothing and the published one shows its documented bias."""

import json

import pytest
import torch

import mhp
from mhp.cli import eval as eval_cli
from mhp.data import read_dataset
from mhp.data.dataset import CropConfig, PoseDataset
from mhp.eval.pose import flip_back

pytestmark = pytest.mark.slow


def oracle(tables, num_joints: int):
    """A model answering every crop of ``tables`` (and its mirror image) with its ground-truth voxels."""
    model = mhp.create_model("LPSKI", num_joints=num_joints, width_mult=0.25, embedding_size=32, input_size=64)
    crop = CropConfig.for_model(model)
    perm = torch.as_tensor(model.joint_set.flip_permutation())
    answers = {}
    for table in tables:
        dataset = PoseDataset(table, model.joint_set, crop, train=False)
        for i in range(len(dataset)):
            sample = dataset.sample(i)
            joints = sample["joints"]
            answers[sample["image"].numpy().tobytes()] = joints
            mirrored = flip_back(joints[None], perm, crop.heatmap_size[0], crop.patch_size, "corrected")[0]
            answers[torch.flip(sample["image"], dims=[2]).numpy().tobytes()] = mirrored

    def forward(images: torch.Tensor) -> torch.Tensor:
        return torch.stack([answers[image.numpy().tobytes()] for image in images])

    model.forward = forward
    return model


def evaluate(monkeypatch, tmp_path, model, *flags):
    monkeypatch.setattr(eval_cli, "load_checkpoint_and_config", lambda *args, **kwargs: (model, {}, {}))
    out = tmp_path / f"report{len(list(tmp_path.iterdir()))}.json"
    argv = ["--checkpoint", str(tmp_path / "oracle.pt"), "--workers", "0", "--device", "cpu", "--json", str(out)]
    assert eval_cli.main([*argv, *flags]) == 0
    return json.loads(out.read_text())["metrics"]


@pytest.mark.parametrize("protocol", [1, 2])
def test_the_oracle_scores_zero_on_human36m_and_flip_testing_it_exactly_changes_nothing(
    synthetic_folders, monkeypatch, tmp_path, protocol
):
    root, _ = synthetic_folders["h36m"]
    model = oracle([read_dataset("h36m", root, "test", protocol=protocol)], 18)
    h36m = ["--data", f"h36m={root}", "--protocol", str(protocol)]
    plain = evaluate(monkeypatch, tmp_path, model, *h36m, "--no-flip-test")
    for metric in ("mpjpe", "pa_mpjpe", "rigid_mpjpe"):
        assert plain[metric] < 0.5, metric  # mm, through crops, voxels, the inverse affine and the camera
    assert plain["bone_length_error_mm"] < 0.5
    exact = evaluate(monkeypatch, tmp_path, model, *h36m, "--flip-mode", "corrected")
    for metric in ("mpjpe", "pa_mpjpe", "rigid_mpjpe"):
        assert exact[metric] == pytest.approx(plain[metric], abs=1e-4)  # symmetric: flipping is a no-op
    published = evaluate(monkeypatch, tmp_path, model, *h36m, "--flip-mode", "original")
    assert published["mpjpe"] > plain["mpjpe"] + 1.0  # the original mirror's bias (reference Q3)


def test_the_oracle_scores_100_on_mupots(synthetic_folders, monkeypatch, tmp_path):
    root, _ = synthetic_folders["mupots"]
    model = oracle([read_dataset("mupots", root, "test")], 21)
    scores = evaluate(monkeypatch, tmp_path, model, "--data", f"mupots={root}", "--no-flip-test")
    assert scores["pck3d_all"] == 100.0
    assert scores["pck3d_matched"] == 100.0
    assert scores["auc_all"] > 95.0  # AUC averages 3DPCK over 0-150 mm thresholds: 0 mm errors pass all but 0
