"""Class conditioning shared by the architectures.

Generators concatenate a learned label embedding to ``z`` (conditional GAN, Mirza & Osindero 2014) or, in
batch-normalised generators, use class-conditional batch norm: per-class gain and bias after the
normalisation (de Vries et al. 2017; Miyato & Koyama 2018; BigGAN). Discriminators add a projection term
``<embed(y), phi(x)>`` to their logit (projection discriminator, Miyato & Koyama 2018, "cGANs with
Projection Discriminator").
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


def require_labels(labels: torch.Tensor | None, n: int, n_classes: int) -> torch.Tensor:
    """Check that a conditional network got one label per sample."""
    if labels is None:
        raise ValueError(f"this model is class-conditional ({n_classes} classes): pass labels")
    if labels.shape != (n,):
        raise ValueError(f"labels must have shape ({n},), got {tuple(labels.shape)}")
    return labels


class LabelConcat(nn.Module):
    """``z`` -> ``[z, embed(labels)]``; the identity for unconditional models (``n_classes == 0``)."""

    def __init__(self, z_dim: int, n_classes: int, embed_dim: int | None = None) -> None:
        super().__init__()
        self.n_classes = n_classes
        self.embed_dim = min(z_dim, 64) if embed_dim is None else embed_dim
        self.embed = nn.Embedding(n_classes, self.embed_dim) if n_classes else None
        self.out_dim = z_dim + (self.embed_dim if n_classes else 0)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        if self.embed is None:
            return z
        labels = require_labels(labels, z.shape[0], self.n_classes)
        return torch.cat([z, self.embed(labels).to(z.dtype)], dim=1)


class ClassBatchNorm(nn.Module):
    """Class-conditional batch norm: batch norm without its own affine, then ``* (1 + gain[y]) + bias[y]``.

    Gain and bias start at 0 (plain batch norm at initialisation). The statistics are shared by all
    classes; only the affine is per class, so the label steers every layer, not only the input.
    """

    def __init__(self, features: int, n_classes: int) -> None:
        super().__init__()
        self.n_classes = n_classes
        self.norm = nn.BatchNorm2d(features, affine=False)
        self.gain = nn.Embedding(n_classes, features)
        self.bias = nn.Embedding(n_classes, features)
        nn.init.zeros_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        labels = require_labels(labels, x.shape[0], self.n_classes)
        h = self.norm(x)
        gain = (1 + self.gain(labels)).to(h.dtype)[:, :, None, None]
        return h * gain + self.bias(labels).to(h.dtype)[:, :, None, None]


def batch_norm(features: int, n_classes: int) -> nn.Module:
    """``nn.BatchNorm2d`` for unconditional networks, :class:`ClassBatchNorm` for conditional ones."""
    return ClassBatchNorm(features, n_classes) if n_classes else nn.BatchNorm2d(features)


class LabelledSequential(nn.Sequential):
    """``nn.Sequential`` that hands ``labels`` to its :class:`ClassBatchNorm` layers."""

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        for layer in self:
            x = layer(x, labels) if isinstance(layer, ClassBatchNorm) else layer(x)
        return x


class Projection(nn.Module):
    """Projection term ``<embed(y), features>`` added to the discriminator's logit.

    ``spectral``: spectral norm on the embedding too, as in Miyato & Koyama's and BigGAN's spectrally
    normalised discriminators (otherwise the unconstrained class term can outgrow the rest of the logit).
    """

    def __init__(self, n_classes: int, features: int, spectral: bool = False) -> None:
        super().__init__()
        self.n_classes = n_classes
        self.embed = nn.Embedding(n_classes, features)
        nn.init.normal_(self.embed.weight, std=0.02)
        if spectral:
            self.embed = spectral_norm(self.embed)

    def forward(self, features: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        labels = require_labels(labels, features.shape[0], self.n_classes)
        return (self.embed(labels).to(features.dtype) * features).sum(dim=1)
