"""Class conditioning shared by the architectures.

Generators concatenate a learned label embedding to ``z`` (conditional GAN, Mirza & Osindero 2014);
discriminators add a projection term ``<embed(y), phi(x)>`` to their logit (projection discriminator,
Miyato & Koyama 2018, "cGANs with Projection Discriminator").
"""

from __future__ import annotations

import torch
from torch import nn


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


class Projection(nn.Module):
    """Projection term ``<embed(y), features>`` added to the discriminator's logit."""

    def __init__(self, n_classes: int, features: int) -> None:
        super().__init__()
        self.n_classes = n_classes
        self.embed = nn.Embedding(n_classes, features)
        nn.init.normal_(self.embed.weight, std=0.02)

    def forward(self, features: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        labels = require_labels(labels, features.shape[0], self.n_classes)
        return (self.embed(labels).to(features.dtype) * features).sum(dim=1)
