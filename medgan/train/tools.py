"""The switchable small-data tools around the loop: DiffAugment or ADA, an EMA generator, and ProGAN's
progressive growing. Each is off unless the config asks for it; the trainer calls the same hooks always."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from medgan.models.progan import grow_schedule
from medgan.train.ada import AdaController, AugmentPipe
from medgan.train.config import Augment, TrainConfig
from medgan.train.diffaugment import DiffAugment
from medgan.train.ema import GeneratorEMA, ema_beta

ADA_TARGET = 0.6  # E[sign D(real)] that ADA steers towards (Karras et al. 2020)
ADA_SPEED_KIMG = 50.0  # thousand images for p to move 0 -> 1: faster than the paper's 500 for short runs
EMA_RAMPUP = 0.05  # EMA half-life at most 5% of the images seen so far (StyleGAN2-ADA)


class TrainingTools:
    """Augmentation, EMA and growth state for one run; checkpointed through :meth:`state` / :meth:`load`."""

    def __init__(
        self,
        config: TrainConfig,
        generator: nn.Module,
        images_per_step: int,
        reduce: Callable[[torch.Tensor], torch.Tensor] | None = None,
        labels: torch.Tensor | None = None,
    ) -> None:
        """``images_per_step`` counts all ranks (the global batch); ``reduce`` sums a tensor over ranks;
        ``labels``: the training label ids of a conditional run (the EMA's standing statistics draw them)."""
        self.config, self.images_per_step = config, images_per_step
        self.augment: Callable[[torch.Tensor], torch.Tensor] | None = None
        self.ada: AdaController | None = None
        if config.augment == Augment.DIFFAUGMENT:
            self.augment = DiffAugment(stack=config.stack)
        elif config.augment == Augment.ADA:
            pipe = AugmentPipe()
            self.ada = AdaController(pipe, target=ADA_TARGET, speed_kimg=ADA_SPEED_KIMG, reduce=reduce)
            self.augment = pipe
        self.ema = GeneratorEMA(generator, config.z_dim, labels) if config.ema else None
        self.grows = hasattr(generator, "set_level")

    @property
    def ada_p(self) -> float:
        """ADA's current augmentation probability (0 without ADA)."""
        return float(self.ada.p) if self.ada is not None else 0.0

    def set_step(self, step: int, total: int, generator: nn.Module, discriminator: nn.Module) -> None:
        """Before a training step: set ProGAN's level and fade-in for ``step`` (a function of step only)."""
        self.step = step
        if self.grows:
            span = self.config.grow_steps or total
            level, alpha = grow_schedule(min(step, span), span, generator.max_level)
            generator.set_level(level, alpha)
            discriminator.set_level(level, alpha)

    def after_d_step(self, stats: dict[str, torch.Tensor], batch_size: int) -> None:
        """After a discriminator step: give ADA the sign of D on this rank's real batch."""
        if self.ada is not None:
            self.ada.observe(stats["d_real_sign"], batch_size)

    def after_g_step(self, generator: nn.Module) -> None:
        """After a generator step (end of a training step): ADA updates p, the EMA weights follow G."""
        if self.ada is not None:
            self.ada.step(self.images_per_step)
        if self.ema is not None:
            seen = (self.step + 1) * self.images_per_step
            self.ema.update(
                generator, ema_beta(self.images_per_step, self.config.ema_kimg * 1000, seen, EMA_RAMPUP)
            )

    def sampling_generator(self, generator: nn.Module) -> nn.Module:
        """The network to draw samples from: the EMA copy (with standing statistics) when there is one."""
        return self.ema.sampling_model() if self.ema is not None else generator

    def state(self, all_ranks: bool = True) -> dict[str, Any]:
        """Checkpoint entries: ``ema`` weights (or None) and ADA state; ``all_ranks`` folds every rank's
        pending ADA statistics in (a collective under DDP: all ranks call it)."""
        return {
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "ada": self.ada.state_dict(fold=all_ranks) if self.ada is not None else None,
        }

    def load(self, checkpoint: dict[str, Any]) -> None:
        """Restore what :meth:`state` saved."""
        if self.ema is not None and checkpoint.get("ema") is not None:
            self.ema.load_state_dict(checkpoint["ema"])
        if self.ada is not None and checkpoint.get("ada") is not None:
            self.ada.load_state_dict(checkpoint["ada"])
