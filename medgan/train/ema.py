"""Exponential moving average of the generator's weights (Karras et al. 2018; Yazici et al. 2019).

As in StyleGAN2-ADA, the decay is set by a half-life in images: after each step of ``batch_size`` images
``beta = 0.5 ** (batch_size / half_life)``, with the half-life ramped up over the first images of
training (``rampup``: half-life at most ``rampup * images_seen``) so early averages do not lag behind.
Buffers are copied, not averaged. Sample from :meth:`GeneratorEMA.sampling_model`.

Batch-norm statistics copied from the trained generator belong to other weights than the averaged ones, so
before the averaged generator is used (sampled, tracked, checkpointed) its batch norms get *standing
statistics* (Brock et al. 2019, BigGAN, their "standing statistics"): the plain average of the batch statistics of
:data:`STANDING_IMAGES` fake images from fixed noise (labels drawn from the training labels), computed by
the averaged network itself. A network without batch norms (stylegan2, progan) keeps its buffers.
Measured on demo-phantom (width-12 fastgan, same weights, n = 288, README "Standing statistics"): at step
6,000 Inception FID 35.9 -> 35.0, in-domain FID 3.68 -> 0.49, ``mass`` images classified as mass 62.5 % ->
88.9 %; on BUSI class-conditional (step 3,000) Inception FID 132.3 -> 125.0, in-domain FID 4.45 -> 1.33;
on BUSI unconditional (2,200 steps) 119.6 -> 120.0, no change. Checkpoints written before this keep their
copied statistics.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

STANDING_IMAGES = 256  # fake images whose batch statistics become the averaged generator's
STANDING_BATCH = 64  # images per forward pass of the standing statistics (train-mode batch size)
STANDING_SEED = 7919  # their noise: fixed, from its own generator (the training's random streams untouched)


def ema_beta(
    batch_size: int, half_life_images: float, images_seen: int | None = None, rampup: float | None = None
) -> float:
    """Decay per step for a half-life in images, optionally ramped up with ``images_seen``."""
    half_life = half_life_images
    if rampup is not None and images_seen is not None:
        half_life = min(half_life, images_seen * rampup)
    return 0.5 ** (batch_size / max(half_life, 1e-8))


def batch_norms(model: nn.Module) -> list[_BatchNorm]:
    """The batch-norm layers of ``model`` (class-conditional ones included)."""
    return [m for m in model.modules() if isinstance(m, _BatchNorm)]


@torch.no_grad()
def standing_statistics(
    model: nn.Module,
    z_dim: int,
    labels: torch.Tensor | None = None,
    n: int = STANDING_IMAGES,
    seed: int = STANDING_SEED,
) -> None:
    """Set ``model``'s batch-norm running statistics to the average batch statistics of ``n`` of its own
    images (fixed noise under ``seed``; labels drawn from ``labels``, the training label ids, when given).
    A model without batch norms is left as it is; the model is left in eval mode."""
    norms = batch_norms(model)
    if not norms:
        return
    device = next(model.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches
    model.train()
    for start in range(0, n, STANDING_BATCH):
        k = min(STANDING_BATCH, n - start)
        z = torch.randn(k, z_dim, generator=gen).to(device)
        y = None if labels is None else labels[torch.randint(len(labels), (k,), generator=gen)].to(device)
        model(z, y)
    for m, momentum in zip(norms, momenta, strict=True):
        m.momentum = momentum
    model.eval()


class GeneratorEMA:
    """A frozen copy of a generator whose weights track the trained generator's moving average.

    ``z_dim`` and ``labels`` (training label ids of a conditional generator) let it compute the standing
    batch-norm statistics; without ``z_dim`` the copied statistics stay."""

    def __init__(
        self, generator: nn.Module, z_dim: int | None = None, labels: torch.Tensor | None = None
    ) -> None:
        self.model = copy.deepcopy(generator).eval().requires_grad_(False)
        self.z_dim, self.labels = z_dim, labels
        self._standing = False  # whether the batch norms hold standing statistics of the current weights

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
        self._standing = False

    def sampling_model(self) -> nn.Module:
        """The averaged generator to sample from, its standing statistics computed first when stale."""
        if not self._standing and self.z_dim is not None:
            standing_statistics(self.model, self.z_dim, self.labels)
        self._standing = True
        return self.model

    def state_dict(self) -> dict[str, Any]:
        """The averaged generator's state dict (with its standing statistics)."""
        return self.sampling_model().state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the averaged weights (and the statistics saved with them)."""
        self.model.load_state_dict(state)
        self._standing = True
