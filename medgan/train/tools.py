"""The switchable small-data tools around the loop: DiffAugment or ADA, an EMA generator, and ProGAN's
progressive growing. Each is off unless the config asks for it; the trainer calls the same hooks always."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from medgan.train.config import Augment, TrainConfig


class TrainingTools:
    """Augmentation, EMA and growth state for one run; checkpointed through :meth:`state` / :meth:`load`."""

    def __init__(self, config: TrainConfig, generator: nn.Module, device: torch.device) -> None:
        self.config = config
        self.augment: Callable[[torch.Tensor], torch.Tensor] | None = None
        self.ada = None
        if config.augment == Augment.DIFFAUGMENT:
            from medgan.train.diffaugment import diff_augment

            self.augment = diff_augment
        elif config.augment == Augment.ADA:
            from medgan.train.ada import AdaController

            self.ada = AdaController()
            self.augment = self.ada.augment
        self.ema = None
        if config.ema:
            from medgan.train.ema import EMA

            self.ema = EMA(generator, beta=config.ema_beta)
        self.grows = hasattr(generator, "set_level")

    @property
    def ada_p(self) -> float:
        """ADA's current augmentation probability (0 without ADA)."""
        return float(self.ada.p) if self.ada is not None else 0.0

    def set_step(self, step: int, total: int, generator: nn.Module, discriminator: nn.Module) -> None:
        """Before a training step: set ProGAN's level and fade-in for ``step``."""
        if self.grows:
            from medgan.models.progan import grow_schedule

            level, alpha = grow_schedule(step, total, self.config.resolution)
            generator.set_level(level, alpha)
            discriminator.set_level(level, alpha)
            self._size = 4 * 2**level

    def resize(self, real: torch.Tensor) -> torch.Tensor:
        """Real images at the resolution the networks work at now (smaller while ProGAN grows)."""
        if not self.grows or real.shape[-1] == self._size:
            return real
        return nn.functional.adaptive_avg_pool2d(real, self._size)

    def after_d_step(self, stats: dict[str, float]) -> None:
        """After a discriminator step: let ADA adjust p from the sign of D(real)."""
        if self.ada is not None:
            self.ada.update(stats["d_real_sign"])

    def after_g_step(self, generator: nn.Module) -> None:
        """After a generator step: update the EMA weights."""
        if self.ema is not None:
            self.ema.update(generator)

    def sampling_generator(self, generator: nn.Module) -> nn.Module:
        """The network to draw samples from: the EMA copy when there is one."""
        return self.ema.model if self.ema is not None else generator

    def state(self) -> dict[str, Any]:
        """Checkpoint entries: ``ema`` weights (or None) and ADA state."""
        return {"ema": self.ema.model.state_dict() if self.ema is not None else None,
                "ada": self.ada.state_dict() if self.ada is not None else None}

    def load(self, checkpoint: dict[str, Any]) -> None:
        """Restore what :meth:`state` saved."""
        if self.ema is not None and checkpoint.get("ema") is not None:
            self.ema.model.load_state_dict(checkpoint["ema"])
        if self.ada is not None and checkpoint.get("ada") is not None:
            self.ada.load_state_dict(checkpoint["ada"])
