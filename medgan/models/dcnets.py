"""DCGAN-style convolutional networks (Radford et al. 2016), shared by dcgan, wgan, wgan-gp and acgan.

The generator starts from a 4x4 map and doubles the size with strided transposed convolutions until the
target resolution; the discriminator mirrors it with strided convolutions down to 4x4. At 64 px and
``width=64`` both are exactly the networks of the DCGAN paper and the PyTorch DCGAN tutorial. Options
choose the discriminator's normalisation (batch norm, layer norm for gradient penalties, none), spectral
norm, a projection term for class conditioning, and an auxiliary classifier head (AC-GAN).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from medgan.models.conditioning import LabelConcat, Projection
from medgan.models.registry import ModelConfig

NORMS = ("batch", "layer", "none")


def stage_features(resolution: int, width: int) -> list[tuple[int, int]]:
    """``(size, features)`` of the feature maps from 4x4 up to ``resolution / 2``.

    Features halve as the size doubles, ending at ``width`` and capped at ``8 * width``.
    """
    sizes = [4 * 2**i for i in range(int(math.log2(resolution // 4)))]
    return [(s, min(8 * width, width * resolution // (2 * s))) for s in sizes]


def init_dcgan_weights(module: nn.Module) -> None:
    """DCGAN initialisation: conv weights N(0, 0.02), norm scales N(1, 0.02), biases 0."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d | nn.GroupNorm):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def _norm(kind: str, features: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(features)
    if kind == "layer":
        return nn.GroupNorm(1, features)
    return nn.Identity()


class DCGenerator(nn.Module):
    """Transposed-convolution generator with batch norm and ReLU, tanh output."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.z_dim, self.n_classes = config.z_dim, config.n_classes
        self.resolution, self.channels = config.resolution, config.channels
        self.cond = LabelConcat(config.z_dim, config.n_classes)
        stages = stage_features(config.resolution, config.width)
        first = stages[0][1]
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(self.cond.out_dim, first, 4, 1, 0, bias=False),
            nn.BatchNorm2d(first),
            nn.ReLU(True),
        ]
        for (_, f_in), (_, f_out) in zip(stages, stages[1:], strict=False):
            layers += [
                nn.ConvTranspose2d(f_in, f_out, 4, 2, 1, bias=False),
                nn.BatchNorm2d(f_out),
                nn.ReLU(True),
            ]
        layers += [nn.ConvTranspose2d(stages[-1][1], config.channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        init_dcgan_weights(self)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        h = self.cond(z, labels)
        return self.net(h[:, :, None, None])


class DCDiscriminator(nn.Module):
    """Strided-convolution discriminator with LeakyReLU down to 4x4, then a 4x4 convolution to one logit.

    norm: ``"batch"``, ``"layer"`` (no batch statistics, required by gradient penalties) or ``"none"``;
    spectral: wrap every weight in spectral norm; aux_classifier: add a class head (AC-GAN) instead of
    the projection term used for other conditional models.
    """

    def __init__(
        self, config: ModelConfig, norm: str = "batch", spectral: bool = False, aux_classifier: bool = False
    ) -> None:
        super().__init__()
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
        self.n_classes, self.resolution, self.channels = config.n_classes, config.resolution, config.channels
        stages = stage_features(config.resolution, config.width)[::-1]
        layers: list[nn.Module] = [
            nn.Conv2d(config.channels, stages[0][1], 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, True),
        ]
        for (_, f_in), (_, f_out) in zip(stages, stages[1:], strict=False):
            layers += [
                nn.Conv2d(f_in, f_out, 4, 2, 1, bias=False),
                _norm(norm, f_out),
                nn.LeakyReLU(0.2, True),
            ]
        features = stages[-1][1]
        self.trunk = nn.Sequential(*layers)
        self.head = nn.Conv2d(features, 1, 4, 1, 0, bias=False)
        self.aux = nn.Linear(features * 16, config.n_classes) if aux_classifier else None
        use_projection = config.n_classes > 0 and not aux_classifier
        self.projection = Projection(config.n_classes, features) if use_projection else None
        init_dcgan_weights(self)
        if spectral:
            for m in self.modules():
                if isinstance(m, nn.Conv2d | nn.Linear):
                    spectral_norm(m)

    def forward(
        self, x: torch.Tensor, labels: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        h = self.trunk(x)
        logits = self.head(h).reshape(-1)
        if self.projection is not None:
            logits = logits + self.projection(h.sum(dim=(2, 3)), labels)
        class_logits = self.aux(h.reshape(h.shape[0], -1)) if self.aux is not None else None
        return logits, class_logits
