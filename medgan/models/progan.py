"""Progressive GAN (Karras, Aila, Laine & Lehtinen 2018, "Progressive Growing of GANs").

Level ``l`` works at ``4 * 2**l`` px, up to ``max_level = log2(resolution) - 2``. When a level is added its
output is faded in: the generator blends the upsampled image of the previous level with the new one by
``alpha``, and the discriminator blends the new level's input path with the previous level's path on a
downsampled image. Also: minibatch standard deviation in the last discriminator block, equalized learning
rate (weights N(0, 1) scaled at run time by He's constant), pixel-wise feature normalisation in the
generator. WGAN-GP loss (with drift), Adam (lr 1e-3, betas 0, 0.99), one critic step as in the paper.
Unlike the paper's linear output, images pass through tanh, so every generator here returns [-1, 1].

So that the trainer needs no special case, the generator always returns full-resolution images (the
current level's image, nearest-upsampled) and the discriminator average-pools its input down to the
current level. :func:`grow_schedule` gives ``(level, alpha)`` from the step alone, so resume is exact.
Both networks are built at their last level with ``alpha = 1``; the trainer calls ``set_level`` each step.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from medgan.models.conditioning import LabelConcat, Projection
from medgan.models.registry import ArchPreset, ModelConfig, register_arch

PRESET = ArchPreset(
    loss="wgan-gp",
    optimizer="adam",
    lr_g=1e-3,
    lr_d=1e-3,
    betas=(0.0, 0.99),
    n_critic=1,
    gp_weight=10.0,
    description="ProGAN: grows from 4 px to full size with fade-in; best detail at 128-256 px, slowest.",
)


def grow_schedule(step: int, total_steps: int, max_level: int) -> tuple[int, float]:
    """``(level, alpha)`` at ``step`` of ``total_steps``.

    The run is cut into ``2 * max_level + 2`` equal phases: level 0 stable, then for each new level a
    fade-in phase (alpha 0 -> 1) and a stable phase; the last level's stable phase is two phases long.
    """
    if total_steps < 1 or max_level < 0:
        raise ValueError(f"need total_steps >= 1 and max_level >= 0, got {total_steps}, {max_level}")
    phase = step * (2 * max_level + 2) / total_steps
    if phase < 1.0 or max_level == 0:
        return 0, 1.0
    level = 1 + int((phase - 1.0) // 2)
    if level > max_level:
        return max_level, 1.0
    within = phase - 1.0 - 2 * (level - 1)
    return level, min(within, 1.0)


class EqualConv2d(nn.Module):
    """Convolution with equalized learning rate: weights N(0, 1), multiplied by sqrt(2 / fan_in) at run time."""

    def __init__(
        self, c_in: int, c_out: int, kernel: int, padding: int = 0, gain: float = math.sqrt(2)
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c_out, c_in, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(c_out))
        self.scale = gain / math.sqrt(c_in * kernel * kernel)
        self.padding = padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)


class EqualLinear(nn.Module):
    """Linear layer with equalized learning rate.

    ``lr_mul`` scales the layer's effective learning rate (StyleGAN's mapping network uses 0.01);
    ``bias_init`` is the bias at initialisation (1 for StyleGAN's style affines).
    """

    def __init__(
        self, f_in: int, f_out: int, gain: float = math.sqrt(2), lr_mul: float = 1.0, bias_init: float = 0.0
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(f_out, f_in) / lr_mul)
        self.bias = nn.Parameter(torch.full((f_out,), bias_init / lr_mul))
        self.scale, self.lr_mul = gain * lr_mul / math.sqrt(f_in), lr_mul

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = self.bias if self.lr_mul == 1.0 else self.bias * self.lr_mul
        return F.linear(x, self.weight * self.scale, bias)


def pixel_norm(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Normalise each pixel's feature vector to unit mean square (computed in float32)."""
    x32 = x.float()
    return (x32 * torch.rsqrt(x32.square().mean(dim=1, keepdim=True) + eps)).to(x.dtype)


def minibatch_stddev(x: torch.Tensor, group: int = 4) -> torch.Tensor:
    """Append one channel: the mean standard deviation of features over groups of samples."""
    n, _, h, w = x.shape
    g = min(group, n)
    while n % g:
        g -= 1
    y = x.float().reshape(g, n // g, -1)
    std = (y.var(dim=0, unbiased=False) + 1e-8).sqrt().mean(dim=1)  # (n // g,)
    std = std.repeat(g).reshape(n, 1, 1, 1).expand(n, 1, h, w)
    return torch.cat([x, std.to(x.dtype)], dim=1)


def level_features(resolution: int, width: int) -> list[int]:
    """Features at each level (4 px, 8 px, ...): halving as size doubles, ``width / 2`` at full size, capped."""
    sizes = [4 * 2**i for i in range(int(math.log2(resolution)) - 1)]
    return [max(1, min(8 * width, width * resolution // (2 * s))) for s in sizes]


def _lrelu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2)


class GBlock(nn.Module):
    """Upsample x2, then two 3x3 convolutions, each with LeakyReLU and pixel norm."""

    def __init__(self, f_in: int, f_out: int) -> None:
        super().__init__()
        self.conv1, self.conv2 = EqualConv2d(f_in, f_out, 3, 1), EqualConv2d(f_out, f_out, 3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        x = pixel_norm(_lrelu(self.conv1(x)))
        return pixel_norm(_lrelu(self.conv2(x)))


class DBlock(nn.Module):
    """Two 3x3 convolutions with LeakyReLU, then 2x2 average pooling."""

    def __init__(self, f_in: int, f_out: int) -> None:
        super().__init__()
        self.conv1, self.conv2 = EqualConv2d(f_in, f_in, 3, 1), EqualConv2d(f_in, f_out, 3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(_lrelu(self.conv2(_lrelu(self.conv1(x)))), 2)


class _Growing(nn.Module):
    """Level and fade-in state shared by both networks."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.z_dim, self.n_classes = config.z_dim, config.n_classes
        self.resolution, self.channels = config.resolution, config.channels
        self.max_level = int(math.log2(config.resolution)) - 2
        self.level, self.alpha = self.max_level, 1.0

    def set_level(self, level: int, alpha: float) -> None:
        """Work at ``4 * 2**level`` px, with the newest level faded in by ``alpha`` in [0, 1]."""
        if not 0 <= level <= self.max_level or not 0.0 <= alpha <= 1.0:
            raise ValueError(
                f"level must be in 0..{self.max_level} and alpha in [0, 1], got {level}, {alpha}"
            )
        self.level, self.alpha = int(level), float(alpha)


class ProGenerator(_Growing):
    """Progressively grown generator; returns ``(N, C, R, R)`` in [-1, 1] at any level."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        feats = level_features(config.resolution, config.width)
        self.cond = LabelConcat(config.z_dim, config.n_classes)
        self.first = EqualLinear(self.cond.out_dim, feats[0] * 16, gain=math.sqrt(2) / 4)
        self.first_conv = EqualConv2d(feats[0], feats[0], 3, 1)
        self.blocks = nn.ModuleList(GBlock(a, b) for a, b in zip(feats, feats[1:], strict=False))
        self.to_rgb = nn.ModuleList(EqualConv2d(f, config.channels, 1, gain=1.0) for f in feats)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        h = pixel_norm(self.cond(z, labels))
        h = pixel_norm(_lrelu(self.first(h).reshape(z.shape[0], -1, 4, 4)))
        h = pixel_norm(_lrelu(self.first_conv(h)))
        previous = h
        for block in self.blocks[: self.level]:
            previous, h = h, block(h)
        img = self.to_rgb[self.level](h)
        if self.level > 0 and self.alpha < 1.0:
            low = F.interpolate(self.to_rgb[self.level - 1](previous), scale_factor=2.0, mode="nearest")
            img = torch.lerp(low, img, self.alpha)
        img = torch.tanh(img)
        factor = self.resolution // img.shape[-1]
        return F.interpolate(img, scale_factor=float(factor), mode="nearest") if factor > 1 else img


class ProDiscriminator(_Growing):
    """Progressively grown discriminator; takes full-resolution images at any level."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        feats = level_features(config.resolution, config.width)
        self.from_rgb = nn.ModuleList(EqualConv2d(config.channels, f, 1) for f in feats)
        self.blocks = nn.ModuleList(DBlock(b, a) for a, b in zip(feats, feats[1:], strict=False))
        self.final_conv = EqualConv2d(feats[0] + 1, feats[0], 3, 1)
        self.final_dense = EqualConv2d(feats[0], feats[0], 4)
        self.head = EqualLinear(feats[0], 1, gain=1.0)
        self.projection = Projection(config.n_classes, feats[0]) if config.n_classes else None

    def forward(
        self, x: torch.Tensor, labels: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        size = 4 * 2**self.level
        if x.shape[-1] > size:
            x = F.avg_pool2d(x, x.shape[-1] // size)
        h = _lrelu(self.from_rgb[self.level](x))
        if self.level > 0:
            h = self.blocks[self.level - 1](h)
            if self.alpha < 1.0:
                low = _lrelu(self.from_rgb[self.level - 1](F.avg_pool2d(x, 2)))
                h = torch.lerp(low, h, self.alpha)
        for block in reversed(self.blocks[: self.level - 1] if self.level > 0 else []):
            h = block(h)
        h = _lrelu(self.final_conv(minibatch_stddev(h)))
        features = _lrelu(self.final_dense(h)).reshape(h.shape[0], -1)
        logits = self.head(features).reshape(-1)
        if self.projection is not None:
            logits = logits + self.projection(features, labels)
        return logits, None


@register_arch("progan", PRESET)
def build(config: ModelConfig) -> tuple[nn.Module, nn.Module]:
    """Progressively grown generator and discriminator, built at full resolution."""
    return ProGenerator(config), ProDiscriminator(config)
