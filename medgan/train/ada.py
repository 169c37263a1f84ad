"""Adaptive discriminator augmentation (Karras, Aittala, Hellsten, Laine, Lehtinen & Aila 2020,
"Training Generative Adversarial Networks with Limited Data").

:class:`AugmentPipe` applies, each with probability ``p`` per image, a subset of ADA's "bgc" pipeline:
x-flip, 90-degree rotations, integer translation (up to 1/8 of the size), isotropic scaling
(lognormal, std 0.2 octaves), arbitrary rotation, brightness (N(0, 0.2)) and contrast (lognormal, std 0.5
octaves). The geometric ops are composed into one affine matrix and applied with a single differentiable
``grid_sample`` with reflection padding, as in the paper. :class:`AdaController` measures the
discriminator's overfitting as r_t = E[sign(D(real))] and moves ``p`` towards the target (0.6) by
``batch * interval / (speed_kimg * 1000)`` every ``interval`` steps, the paper's update rule (500 kimg
for p to go from 0 to 1; small datasets trained for few images want a faster speed).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


def _affine(
    a: torch.Tensor, b: torch.Tensor, c: torch.Tensor, d: torch.Tensor, tx: torch.Tensor, ty: torch.Tensor
):
    """Batch of 3x3 matrices [[a, b, tx], [c, d, ty], [0, 0, 1]]."""
    zero, one = torch.zeros_like(a), torch.ones_like(a)
    return torch.stack([a, b, tx, c, d, ty, zero, zero, one], dim=1).reshape(-1, 3, 3)


class AugmentPipe(nn.Module):
    """Differentiable ADA augmentations for ``(N, C, H, W)`` images in [-1, 1], any number of channels."""

    def __init__(
        self,
        p: float = 0.0,
        xint_max: float = 0.125,
        scale_std: float = 0.2,
        brightness_std: float = 0.2,
        contrast_std: float = 0.5,
    ) -> None:
        super().__init__()
        self.p = float(p)
        self.xint_max, self.scale_std = xint_max, scale_std
        self.brightness_std, self.contrast_std = brightness_std, contrast_std

    def _chosen(self, n: int, device: torch.device) -> torch.Tensor:
        """Per-sample coin flips with probability p."""
        return torch.rand(n, device=device) < self.p

    def geometry(self, n: int, size: int, device: torch.device) -> torch.Tensor:
        """Random (N, 3, 3) output-to-input matrices in grid_sample's normalised coordinates."""
        ones, zeros = torch.ones(n, device=device), torch.zeros(n, device=device)
        flip = torch.where(self._chosen(n, device), -ones, ones)
        matrix = _affine(flip, zeros, zeros, ones, zeros, zeros)
        quarter = torch.randint(0, 4, (n,), device=device) * self._chosen(n, device)
        angle = quarter * (math.pi / 2) + torch.where(
            self._chosen(n, device), (torch.rand(n, device=device) * 2 - 1) * math.pi, zeros
        )
        cos, sin = torch.cos(angle), torch.sin(angle)
        matrix = matrix @ _affine(cos, -sin, sin, cos, zeros, zeros)
        shift = torch.round((torch.rand(n, 2, device=device) * 2 - 1) * self.xint_max * size) * 2 / size
        shift = shift * self._chosen(n, device)[:, None]
        matrix = matrix @ _affine(ones, zeros, zeros, ones, shift[:, 0], shift[:, 1])
        scale = torch.exp2(torch.randn(n, device=device) * self.scale_std * self._chosen(n, device))
        return matrix @ _affine(scale, zeros, zeros, scale, zeros, zeros)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.p <= 0.0:
            return x
        n, dtype = x.shape[0], x.dtype
        matrix = self.geometry(n, x.shape[-1], x.device)
        grid = F.affine_grid(matrix[:, :2, :], list(x.shape), align_corners=False)
        x = F.grid_sample(x.float(), grid, mode="bilinear", padding_mode="reflection", align_corners=False)
        brightness = torch.randn(n, 1, 1, 1, device=x.device) * self.brightness_std
        contrast = torch.exp2(torch.randn(n, 1, 1, 1, device=x.device) * self.contrast_std)
        x = x * torch.where(self._chosen(n, x.device)[:, None, None, None], contrast, 1.0)
        x = x + brightness * self._chosen(n, x.device)[:, None, None, None]
        return x.to(dtype)


class AdaController:
    """Adjusts ``pipe.p`` from the discriminator's sign on real images.

    Call :meth:`observe` with E[sign(D(real))] of each discriminator batch (``stats["d_real_sign"]``
    from :func:`medgan.train.losses.discriminator_loss`, a tensor left on the device) and :meth:`step`
    once per training step. Under DDP ``reduce`` sums a tensor over the ranks: every rank's observations
    are folded in before p moves (one host sync and one collective every ``interval`` steps), so p is
    the same on all ranks. :meth:`state_dict` folds them in too, so call it on every rank.
    """

    def __init__(
        self,
        pipe: AugmentPipe,
        target: float = 0.6,
        speed_kimg: float = 500.0,
        interval: int = 4,
        reduce: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        self.pipe, self.target, self.speed_kimg, self.interval = pipe, target, speed_kimg, interval
        self.reduce = reduce
        self.sign_sum, self.count, self.steps = 0.0, 0, 0
        self._pending: torch.Tensor | None = None  # this rank's (sign sum, count) not yet folded in
        self.r_t: float | None = None

    @property
    def p(self) -> float:
        """Current augmentation probability."""
        return self.pipe.p

    def observe(self, sign_mean: torch.Tensor | float, count: int) -> None:
        """Accumulate the mean sign of D on ``count`` real images (on the device, no sync)."""
        sign = torch.as_tensor(sign_mean, dtype=torch.float32).detach()
        pair = torch.stack([sign * count, torch.full_like(sign, float(count))])
        self._pending = pair if self._pending is None else self._pending + pair

    def _fold(self) -> None:
        """Add every rank's pending observations to the totals (a collective under DDP)."""
        pending = self._pending if self._pending is not None else torch.zeros(2)
        if self.reduce is not None:
            pending = self.reduce(pending)
        sign_sum, count = pending.tolist()
        self.sign_sum, self.count, self._pending = self.sign_sum + sign_sum, self.count + int(count), None

    def step(self, batch_size: int) -> float:
        """Count one training step of ``batch_size`` images; every ``interval`` steps update p. Returns p."""
        self.steps += 1
        if self.steps % self.interval == 0:
            self._fold()
            if self.count > 0:
                self.r_t = self.sign_sum / self.count
                adjust = math.copysign(1.0, self.r_t - self.target) if self.r_t != self.target else 0.0
                change = adjust * batch_size * self.interval / (self.speed_kimg * 1000)
                self.pipe.p = min(max(self.pipe.p + change, 0.0), 1.0)
                self.sign_sum, self.count = 0.0, 0
        return self.pipe.p

    def state_dict(self, fold: bool = True) -> dict[str, Any]:
        """Everything resume needs: p, the pending accumulators (all ranks' when ``fold``) and the step count."""
        if fold:
            self._fold()
        return {"p": self.pipe.p, "sign_sum": self.sign_sum, "count": self.count, "steps": self.steps}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output."""
        self.pipe.p = float(state["p"])
        self.sign_sum, self.count, self.steps = (
            float(state["sign_sum"]),
            int(state["count"]),
            int(state["steps"]),
        )
        self._pending = None
