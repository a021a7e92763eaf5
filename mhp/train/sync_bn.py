"""BatchNorm over the whole distributed batch on any device.

``torch.nn.SyncBatchNorm`` runs on CUDA only. :class:`GlobalBatchNorm2d` computes the batch mean and
variance with ``torch.distributed.nn.functional.all_reduce``, which is differentiable, so forward statistics
and gradients are exactly those of one process holding the global batch (up to summation order). It is used
for ``--sync-bn`` on CPU (gloo); CUDA runs keep torch's fused implementation.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.nn.functional import all_reduce


class GlobalBatchNorm2d(nn.BatchNorm2d):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(x)
        channels = x.shape[1]
        local = torch.cat([x.sum(dim=(0, 2, 3)), x.new_tensor([x.numel() / channels])])
        total = all_reduce(local)
        count = total[-1]
        mean = total[:channels] / count
        centred = x - mean[None, :, None, None]
        var = all_reduce((centred * centred).sum(dim=(0, 2, 3))) / count  # two passes: no cancellation
        with torch.no_grad():
            self.num_batches_tracked += 1
            self.running_mean.lerp_(mean.detach(), self.momentum)
            self.running_var.lerp_(var.detach() * count / (count - 1), self.momentum)
        normalised = centred * torch.rsqrt(var + self.eps)[None, :, None, None]
        return normalised * self.weight[None, :, None, None] + self.bias[None, :, None, None]


def convert_to_global_batchnorm(module: nn.Module) -> nn.Module:
    """Replace every BatchNorm2d in ``module`` (in place) by a :class:`GlobalBatchNorm2d` with the same state."""
    for name, child in module.named_children():
        if type(child) is nn.BatchNorm2d:
            replacement = GlobalBatchNorm2d(child.num_features, child.eps, child.momentum, child.affine)
            replacement.load_state_dict(child.state_dict())
            setattr(module, name, replacement.to(child.weight.device))
        else:
            convert_to_global_batchnorm(child)
    return module
