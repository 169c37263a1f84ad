"""Exponential moving average of the generator's weights (Karras et al. 2018; Yazici et al. 2019).

As in StyleGAN2-ADA, the decay is set by a half-life in images: after each step of ``batch_size`` images
``beta = 0.5 ** (batch_size / half_life)``, with the half-life ramped up over the first images of
training (``rampup``: half-life at most ``rampup * images_seen``) so early averages do not lag behind.
Buffers (batch-norm statistics) are copied, not averaged. Sample from ``ema.model``.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn


def ema_beta(
    batch_size: int, half_life_images: float, images_seen: int | None = None, rampup: float | None = None
) -> float:
    """Decay per step for a half-life in images, optionally ramped up with ``images_seen``."""
    half_life = half_life_images
    if rampup is not None and images_seen is not None:
        half_life = min(half_life, images_seen * rampup)
    return 0.5 ** (batch_size / max(half_life, 1e-8))


class GeneratorEMA:
    """A frozen copy of a generator whose weights track the trained generator's moving average."""

    def __init__(self, generator: nn.Module) -> None:
        self.model = copy.deepcopy(generator).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, generator: nn.Module, beta: float) -> None:
        """``ema = beta * ema + (1 - beta) * generator`` for parameters; buffers copied.

        Pass the bare module (``ddp.module``) under DistributedDataParallel. A progressively grown
        generator's level and fade-in are copied too.
        """
        ema_params, params = list(self.model.parameters()), list(generator.parameters())
        if len(ema_params) != len(params):
            raise ValueError(f"EMA holds {len(ema_params)} parameters, the generator {len(params)}")
        torch._foreach_lerp_(ema_params, [p.detach() for p in params], 1.0 - beta)  # one kernel per group
        ema_buffers, buffers = list(self.model.buffers()), list(generator.buffers())
        if ema_buffers:
            torch._foreach_copy_(ema_buffers, buffers)
        if hasattr(generator, "set_level"):
            self.model.set_level(generator.level, generator.alpha)

    def state_dict(self) -> dict[str, Any]:
        """The averaged generator's state dict."""
        return self.model.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the averaged weights."""
        self.model.load_state_dict(state)
