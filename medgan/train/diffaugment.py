"""Differentiable Augmentation (Zhao, Liu, Lin, Zhu & Han 2020, "Differentiable Augmentation for
Data-Efficient GAN Training").

The same random colour, translation and cutout transforms are applied to every image the discriminator
sees, real and fake, in both the discriminator and the generator step; all are differentiable, so the
generator gets gradients through them. Images are ``(N, C, H, W)`` in [-1, 1] with any number of
channels: brightness and contrast act on all channels alike, saturation only on 3-channel RGB images
(never on a 2.5D stack, ``stack=True``, whose 3 channels are slices), so grayscale images and frame stacks
are never mixed across channels.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

DEFAULT_POLICY = "color,translation,cutout"


def _uniform(x: torch.Tensor) -> torch.Tensor:
    """One U(0, 1) value per sample, shaped to broadcast over (C, H, W)."""
    return torch.rand(x.shape[0], 1, 1, 1, dtype=x.dtype, device=x.device)


def rand_brightness(x: torch.Tensor) -> torch.Tensor:
    """Add a per-sample offset in [-0.5, 0.5]."""
    return x + (_uniform(x) - 0.5)


def rand_saturation(x: torch.Tensor) -> torch.Tensor:
    """Scale the distance from the per-pixel channel mean by [0, 2] (RGB only; identity otherwise)."""
    if x.shape[1] != 3:
        return x
    mean = x.mean(dim=1, keepdim=True)
    return (x - mean) * (_uniform(x) * 2) + mean


def rand_contrast(x: torch.Tensor) -> torch.Tensor:
    """Scale the distance from the per-sample mean by [0.5, 1.5]."""
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_uniform(x) + 0.5) + mean


def rand_translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    """Shift each sample by up to ``ratio`` of its size in x and y, filling with zeros."""
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ty = torch.randint(-sh, sh + 1, (n, 1, 1), device=x.device)
    tx = torch.randint(-sw, sw + 1, (n, 1, 1), device=x.device)
    gy, gx = torch.meshgrid(torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij")
    gy = (gy + ty + 1).clamp(0, h + 1)
    gx = (gx + tx + 1).clamp(0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1])  # the zero border is where shifted-in pixels come from
    flat = padded.permute(0, 2, 3, 1).reshape(n, (h + 2) * (w + 2), -1)
    index = (gy * (w + 2) + gx).reshape(n, -1, 1).expand(-1, -1, x.shape[1])
    out = flat.gather(1, index).reshape(n, h, w, -1)
    return out.permute(0, 3, 1, 2)  # channels_last strides


def rand_cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """Zero one square of ``ratio`` times the image size at a random place in each sample."""
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), device=x.device)
    cx = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), device=x.device)
    dy = torch.arange(h, device=x.device).reshape(1, h, 1) - cy + ch // 2
    dx = torch.arange(w, device=x.device).reshape(1, 1, w) - cx + cw // 2
    inside = (dy >= 0) & (dy < ch) & (dx >= 0) & (dx < cw)
    return x * (~inside).unsqueeze(1).to(x.dtype)


AUGMENTS: dict[str, list[Callable[[torch.Tensor], torch.Tensor]]] = {
    "color": [rand_brightness, rand_saturation, rand_contrast],
    "translation": [rand_translation],
    "cutout": [rand_cutout],
}


def parse_policy(policy: str) -> list[str]:
    """``"color,translation"`` -> ``["color", "translation"]``; ValueError naming unknown parts."""
    names = [p.strip() for p in policy.split(",") if p.strip()]
    unknown = [p for p in names if p not in AUGMENTS]
    if unknown:
        raise ValueError(f"unknown DiffAugment policy {', '.join(unknown)}; known: {', '.join(AUGMENTS)}")
    return names


def diff_augment(x: torch.Tensor, policy: str = DEFAULT_POLICY, stack: bool = False) -> torch.Tensor:
    """Apply the policy's transforms, each with fresh randomness per sample; ``stack``: the channels are
    slices of a 2.5D stack, so saturation (which mixes channels as colours) is skipped."""
    for name in parse_policy(policy):
        for fn in AUGMENTS[name]:
            if not (stack and fn is rand_saturation):
                x = fn(x)
    return x


class DiffAugment(torch.nn.Module):
    """DiffAugment as a module: ``DiffAugment("color,translation,cutout")(images)``."""

    def __init__(self, policy: str = DEFAULT_POLICY, stack: bool = False) -> None:
        super().__init__()
        self.policy, self.stack = ",".join(parse_policy(policy)), stack

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return diff_augment(x, self.policy, self.stack)
