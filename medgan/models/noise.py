"""Per-pixel noise inputs (StyleGAN, Karras et al. 2019; also FastGAN's generator).

``x + strength * noise`` with one learned strength per layer, initialised to 0. While training the noise is
fresh N(0, 1) per sample; in eval mode a fixed noise map stored with the weights is used (StyleGAN2's
"const" noise), so a generator in eval mode maps the same ``z`` to the same image.
"""

from __future__ import annotations

import torch
from torch import nn


class NoiseInput(nn.Module):
    """Adds scaled single-channel noise to a ``(N, C, size, size)`` feature map."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.strength = nn.Parameter(torch.zeros(()))
        self.register_buffer("fixed", torch.randn(1, 1, size, size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            noise = torch.randn(x.shape[0], 1, x.shape[2], x.shape[3], device=x.device, dtype=x.dtype)
        else:
            noise = self.fixed.to(x.dtype)
        return x + self.strength.to(x.dtype) * noise
