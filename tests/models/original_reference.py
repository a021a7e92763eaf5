"""An independent, functional rendering of the original networks, written from reference §2-§4 and §14.

``original_state(arch, J)`` builds a random state dict with the original snapshot's key names and shapes;
``original_logits(state, arch, x)`` runs the original forward pass straight off those keys with
``torch.nn.functional``. Nothing here uses mhp's modules, so agreement with an mhp model loaded from the same
snapshot shows that the keys mean what the original code meant by them.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

# (t, c, n) and per-variant strides, typed from reference §2.
SETTING = [(1, 64, 1), (6, 48, 2), (6, 48, 3), (6, 64, 4), (6, 96, 3), (6, 160, 3), (6, 320, 1)]
STRIDES = {
    "LPSKI": [2, 2, 2, 2, 2, 1, 1],
    "LPSKI_LARGE": [2, 2, 2, 2, 2, 1, 1],
    "LPWO": [1, 2, 2, 2, 2, 2, 1],
    "LPRES": [1, 2, 2, 2, 2, 2, 1],
}
STEM_STRIDE = {"LPSKI": 2, "LPSKI_LARGE": 1, "LPWO": 1, "LPRES": 1}
DEPTH = {"LPSKI": 32, "LPSKI_LARGE": 64, "LPWO": 64, "LPRES": 64, "RESNET50": 64}
P = "module.backbone."


def _div8(v: float) -> int:
    r = max(8, int(v + 4) // 8 * 8)
    return r + 8 if r < 0.9 * v else r


class _Builder:
    def __init__(self, seed: int) -> None:
        self.g = torch.Generator().manual_seed(seed)
        self.state: dict[str, torch.Tensor] = {}

    def rand(self, *shape: int, std: float = 1.0) -> torch.Tensor:
        return torch.randn(*shape, generator=self.g) * std

    def conv(self, key: str, cout: int, cin: int, k: int, bias: bool = False) -> None:
        self.state[key + ".weight"] = self.rand(cout, cin, k, k, std=math.sqrt(2.0 / (cin * k * k)))
        if bias:
            self.state[key + ".bias"] = self.rand(cout, std=0.1)

    def bn(self, key: str, c: int) -> None:
        u = torch.rand(c, generator=self.g)
        self.state[key + ".weight"] = 0.5 + u
        self.state[key + ".bias"] = self.rand(c, std=0.1)
        self.state[key + ".running_mean"] = self.rand(c, std=0.1)
        self.state[key + ".running_var"] = 0.5 + torch.rand(c, generator=self.g)
        self.state[key + ".num_batches_tracked"] = torch.tensor(1000)

    def prelu(self, key: str, c: int) -> None:
        self.state[key + ".weight"] = 0.5 * torch.rand(c, generator=self.g)

    def conv_bn_prelu(self, key: str, cout: int, cin: int, k: int, groups: int = 1) -> None:
        self.conv(key + ".0", cout, cin // groups, k)
        self.bn(key + ".1", cout)
        self.prelu(key + ".2", cout)

    def decoder(self, key: str, cin: int, mid: int) -> None:
        self.conv(key + ".0", mid, cin, 1, bias=True)
        self.bn(key + ".1", mid)
        self.prelu(key + ".2", mid)
        self.conv(key + ".3", 256, mid, 3, bias=True)
        self.bn(key + ".4", 256)
        self.prelu(key + ".5", 256)


def lpnet_plan(arch: str, width: float = 1.0) -> list[tuple[int, int, int, int]]:
    """(in, out, stride, t) of the 17 blocks."""
    stem = _div8(48 * width)
    outs = [_div8(c * width) for _, c, _ in SETTING]
    feats = [stem, *outs]
    plan = []
    for k, ((t, _, n), s) in enumerate(zip(SETTING, STRIDES[arch], strict=True)):
        if arch == "LPRES" and k > 0:
            first_in = feats[k - 1] + feats[k]
        else:
            first_in = feats[k]
        for i in range(n):
            plan.append((first_in if i == 0 else outs[k], outs[k], s if i == 0 else 1, t))
    return plan


def original_state(arch: str, num_joints: int, width: float = 1.0, seed: int = 0) -> dict[str, torch.Tensor]:
    """A random original-format ``network`` state dict (DataParallel keys)."""
    b = _Builder(seed)
    if arch == "RESNET50":
        return _resnet_state(b, num_joints)
    stem = _div8(48 * width)
    outs = [_div8(c * width) for _, c, _ in SETTING]
    b.conv_bn_prelu(P + "first_conv", stem, 3, 3)
    for n, (cin, cout, _, t) in enumerate(lpnet_plan(arch, width)):
        key = f"{P}inv_residual.{n}.conv"
        hid = round(cin * t)
        if t == 1:
            b.conv_bn_prelu(key + ".0", hid, hid, 3, groups=hid)
            b.conv(key + ".1", cout, hid, 1)
            b.bn(key + ".2", cout)
        else:
            b.conv_bn_prelu(key + ".0", hid, cin, 1)
            b.conv_bn_prelu(key + ".1", hid, hid, 3, groups=hid)
            b.conv(key + ".2", cout, hid, 1)
            b.bn(key + ".3", cout)
    emb = 2048
    if arch == "LPRES":
        b.conv_bn_prelu(P + "last_conv", emb, outs[5] + outs[6], 1)
        b.decoder(P + "deonv0", outs[6] + emb, 256)
        b.decoder(P + "deonv1", emb + 256, 256)
        b.decoder(P + "deonv2", 512, 256)
    else:
        b.conv_bn_prelu(P + "last_conv", emb, outs[6], 1)
        if arch == "LPWO":
            b.decoder(P + "deconv0", emb, outs[5])
            b.decoder(P + "deconv1", 256, outs[4])
            b.decoder(P + "deconv2", 256, outs[3])
        else:
            b.decoder(P + "deconv0", emb + outs[4], outs[4])
            b.decoder(P + "deconv1", 256 + outs[3], outs[3])
            b.decoder(P + "deconv2", 256 + outs[2], outs[2])
    b.conv(P + "final_layer", num_joints * DEPTH[arch], 256, 1, bias=True)
    return b.state


def _resnet_state(b: _Builder, num_joints: int) -> dict[str, torch.Tensor]:
    b.conv(P + "conv1", 64, 3, 7)
    b.bn(P + "bn1", 64)
    cin = 64
    for layer, (planes, blocks) in enumerate(zip((64, 128, 256, 512), (3, 4, 6, 3), strict=True), start=1):
        for i in range(blocks):
            key = f"{P}layer{layer}.{i}"
            b.conv(key + ".conv1", planes, cin, 1)
            b.bn(key + ".bn1", planes)
            b.conv(key + ".conv2", planes, planes, 3)
            b.bn(key + ".bn2", planes)
            b.conv(key + ".conv3", planes * 4, planes, 1)
            b.bn(key + ".bn3", planes * 4)
            if i == 0:
                b.conv(key + ".downsample.0", planes * 4, cin, 1)
                b.bn(key + ".downsample.1", planes * 4)
            cin = planes * 4
    for idx, c_in in zip((0, 3, 6), (2048, 256, 256), strict=True):
        # ConvTranspose2d weights are (in, out, k, k)
        b.state[f"module.head.deconv_layers.{idx}.weight"] = b.rand(c_in, 256, 4, 4, std=math.sqrt(2.0 / (c_in * 4)))
        b.bn(f"module.head.deconv_layers.{idx + 1}", 256)
    b.conv("module.head.final_layer", num_joints * 64, 256, 1, bias=True)
    return b.state


# ---- forward passes -----------------------------------------------------------------------------------


def _bn(s: dict, key: str, x: torch.Tensor) -> torch.Tensor:
    return F.batch_norm(
        x, s[key + ".running_mean"], s[key + ".running_var"], s[key + ".weight"], s[key + ".bias"], False, 0.0, 1e-5
    )


def _cbp(s: dict, key: str, x: torch.Tensor, stride: int = 1, groups: int = 1) -> torch.Tensor:
    w = s[key + ".0.weight"]
    x = F.conv2d(x, w, None, stride, (w.shape[-1] - 1) // 2, 1, groups)
    return F.prelu(_bn(s, key + ".1", x), s[key + ".2.weight"])


def _block(s: dict, n: int, x: torch.Tensor, cin: int, cout: int, stride: int, t: int) -> torch.Tensor:
    key = f"{P}inv_residual.{n}.conv"
    hid = round(cin * t)
    if t == 1:
        y = _cbp(s, key + ".0", x, stride, hid)
        y = _bn(s, key + ".2", F.conv2d(y, s[key + ".1.weight"]))
    else:
        y = _cbp(s, key + ".0", x)
        y = _cbp(s, key + ".1", y, stride, hid)
        y = _bn(s, key + ".3", F.conv2d(y, s[key + ".2.weight"]))
    return x + y if stride == 1 and cin == cout else y


def _decoder(s: dict, key: str, x: torch.Tensor) -> torch.Tensor:
    x = F.prelu(_bn(s, key + ".1", F.conv2d(x, s[key + ".0.weight"], s[key + ".0.bias"])), s[key + ".2.weight"])
    x = F.conv2d(x, s[key + ".3.weight"], s[key + ".3.bias"], padding=1)
    x = F.prelu(_bn(s, key + ".4", x), s[key + ".5.weight"])
    return _up(x)


def _up(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)


def _pool(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)


def original_logits(s: dict, arch: str, x: torch.Tensor, width: float = 1.0) -> torch.Tensor:
    """The original network's raw output ``(N, J*D, H, W)``."""
    if arch == "RESNET50":
        return _resnet_logits(s, x)
    plan = lpnet_plan(arch, width)

    def blocks(lo: int, hi: int, h: torch.Tensor) -> torch.Tensor:
        for n in range(lo, hi):
            h = _block(s, n, h, *plan[n])
        return h

    x = _cbp(s, P + "first_conv", x, STEM_STRIDE[arch])
    if arch in ("LPSKI", "LPSKI_LARGE"):
        a = blocks(0, 6, x)  # skip A: output of block 5
        b = blocks(6, 10, a)  # skip B: block 9
        c = blocks(10, 13, b)  # skip C: block 12
        z = _cbp(s, P + "last_conv", blocks(13, 17, c))
        z = _decoder(s, P + "deconv0", torch.cat([c, z], 1))
        z = _decoder(s, P + "deconv1", torch.cat([b, z], 1))
        z = _decoder(s, P + "deconv2", torch.cat([a, z], 1))
    elif arch == "LPWO":
        z = _cbp(s, P + "last_conv", blocks(0, 17, x))
        for k in range(3):
            z = _decoder(s, f"{P}deconv{k}", z)
    else:  # LPRES, the data flow of reference §3.4 line by line
        x0 = x
        x1 = blocks(0, 1, x0)
        x2 = blocks(1, 3, torch.cat([x0, x1], 1))
        x0 = blocks(3, 6, torch.cat([_pool(x1), x2], 1))
        x1 = blocks(6, 10, torch.cat([_pool(x2), x0], 1))
        x2 = blocks(10, 13, torch.cat([_pool(x0), x1], 1))
        x0 = blocks(13, 16, torch.cat([_pool(x1), x2], 1))
        x1 = blocks(16, 17, torch.cat([_pool(x2), x0], 1))
        x2 = _cbp(s, P + "last_conv", torch.cat([x0, x1], 1))
        d0 = _decoder(s, P + "deonv0", torch.cat([x1, x2], 1))
        d1 = _decoder(s, P + "deonv1", torch.cat([_up(x2), d0], 1))
        z = _decoder(s, P + "deonv2", torch.cat([_up(d0), d1], 1))
    return F.conv2d(z, s[P + "final_layer.weight"], s[P + "final_layer.bias"])


def _resnet_logits(s: dict, x: torch.Tensor) -> torch.Tensor:
    x = F.relu(_bn(s, P + "bn1", F.conv2d(x, s[P + "conv1.weight"], stride=2, padding=3)))
    x = F.max_pool2d(x, 3, 2, 1)
    for layer, blocks in enumerate((3, 4, 6, 3), start=1):
        for i in range(blocks):
            key = f"{P}layer{layer}.{i}"
            stride = 2 if (i == 0 and layer > 1) else 1
            y = F.relu(_bn(s, key + ".bn1", F.conv2d(x, s[key + ".conv1.weight"])))
            y = F.relu(_bn(s, key + ".bn2", F.conv2d(y, s[key + ".conv2.weight"], stride=stride, padding=1)))
            y = _bn(s, key + ".bn3", F.conv2d(y, s[key + ".conv3.weight"]))
            if i == 0:
                x = _bn(s, key + ".downsample.1", F.conv2d(x, s[key + ".downsample.0.weight"], stride=stride))
            x = F.relu(x + y)
    for idx in (0, 3, 6):
        key = f"module.head.deconv_layers.{idx}"
        x = F.conv_transpose2d(x, s[key + ".weight"], stride=2, padding=1)
        x = F.relu(_bn(s, f"module.head.deconv_layers.{idx + 1}", x))
    return F.conv2d(x, s["module.head.final_layer.weight"], s["module.head.final_layer.bias"])


def original_soft_argmax(logits: torch.Tensor, num_joints: int, depth: int) -> torch.Tensor:
    """The original integral: marginals, then sum((i+1) * p) - 1 per axis (reference §5, step 4)."""
    n, _, h, w = logits.shape
    p = F.softmax(logits.reshape(n, num_joints, -1), dim=2).reshape(n, num_joints, depth, h, w)
    xs = (p.sum(dim=(2, 3)) * torch.arange(1, w + 1, dtype=p.dtype)).sum(2) - 1
    ys = (p.sum(dim=(2, 4)) * torch.arange(1, h + 1, dtype=p.dtype)).sum(2) - 1
    zs = (p.sum(dim=(3, 4)) * torch.arange(1, depth + 1, dtype=p.dtype)).sum(2) - 1
    return torch.stack([xs, ys, zs], dim=2)
