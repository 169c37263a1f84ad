"""A compact StyleGAN2 (Karras, Laine, Aittala, Hellsten, Lehtinen & Aila, CVPR 2020, "Analyzing and
Improving the Image Quality of StyleGAN"), trained as in StyleGAN2-ADA (Karras et al., NeurIPS 2020).

Generator: a mapping network (z normalised, 2 equalized-lr layers with learning-rate multiplier 0.01, as
StyleGAN2-ADA's small-data configuration) gives w; the synthesis network starts from a learned 4x4
constant and, per resolution, runs two modulated 3x3 convolutions (each input channel scaled by a style
``A(w)``, each output demodulated to unit expected norm) with per-pixel noise inputs, and a "skip"
output: every resolution adds its toRGB image to the upsampled image so far. Discriminator: residual
blocks (3x3 convolution, 2x downsampling, 3x3 convolution, a 1x1 skip, sum scaled by 1/sqrt 2) down to
4x4, then minibatch standard deviation, a 3x3 convolution and two dense layers. Equalized learning rate
everywhere (weights N(0, 1) scaled at run time by He's constant sqrt(2 / fan_in): the same network as
StyleGAN2's 1/sqrt(fan_in) with leaky ReLU times sqrt 2, one multiplication fewer per layer; in the
generator the sqrt 2 rides on the demodulation coefficients).
Training: non-saturating logistic loss, R1 on real images every 16 steps (lazy regularisation), Adam
(lr 0.0025, betas 0, 0.99); the training preset (medgan.train.config) turns on the EMA generator and ADA.
Conditional as in StyleGAN2-ADA: a label embedding joins z at the mapping network's input, and the
discriminator adds a projection term. Widths: ``min(8 * width, width * R / size)`` features per map size,
which at 256 px and ``width=64`` is StyleGAN2-ADA's 256 px configuration (16384 / size, at most 512).

Left out: the FIR (blur) filters of up- and downsampling (bilinear upsampling and average pooling are
used instead), path-length regularisation, style mixing, truncation (and its tracked average w), Adam's
learning-rate and beta adjustment for the lazy R1 steps, the fused grouped convolution and fp16
clamping, and the linear output (images pass through tanh so that every generator here returns [-1, 1]).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from medgan.models.conditioning import LabelConcat, Projection
from medgan.models.noise import NoiseInput
from medgan.models.progan import EqualConv2d, EqualLinear, minibatch_stddev, pixel_norm
from medgan.models.registry import ArchPreset, ModelConfig, register_arch

PRESET = ArchPreset(
    loss="bce",
    optimizer="adam",
    lr_g=2.5e-3,
    lr_d=2.5e-3,
    betas=(0.0, 0.99),
    n_critic=1,
    r1_gamma=0.05,  # StyleGAN2-ADA's heuristic 0.0002 * R^2 / batch at 64 px and batch 16
    r1_every=16,
    description="StyleGAN2: style-modulated generator, residual discriminator, lazy R1; use with ADA and EMA.",
)
MAPPING_LAYERS = 2
SQRT2 = math.sqrt(2)


def map_features(resolution: int, width: int) -> dict[int, int]:
    """Features per map size 4..R: ``width`` at full size, doubling as the size halves, at most 8x."""
    sizes = [4 * 2**i for i in range(int(math.log2(resolution)) - 1)]
    return {s: max(1, min(8 * width, width * resolution // s)) for s in sizes}


def _act(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2)


class MappingNetwork(nn.Module):
    """``(z, labels) -> w``: normalise, join the label embedding, dense layers with lr multiplier 0.01."""

    def __init__(self, z_dim: int, n_classes: int, w_dim: int) -> None:
        super().__init__()
        self.cond = LabelConcat(z_dim, n_classes)
        dims = [self.cond.out_dim] + [w_dim] * MAPPING_LAYERS
        self.layers = nn.ModuleList(
            EqualLinear(a, b, lr_mul=0.01) for a, b in zip(dims, dims[1:], strict=False)
        )

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        x = pixel_norm(self.cond(pixel_norm(z), labels))
        for layer in self.layers:
            x = _act(layer(x))
        return x


class ModulatedConv(nn.Module):
    """Convolution whose input channels are scaled by a style from w, outputs demodulated (optional).

    Computed as scale-input, shared convolution, scale-output (StyleGAN2-ADA's non-fused path), which is
    exactly the per-sample modulated weight and runs as one ordinary convolution for the whole batch.
    ``gain`` multiplies the demodulated output (the activation gain of the layer, folded in for free).
    """

    def __init__(
        self, f_in: int, f_out: int, kernel: int, w_dim: int, demodulate: bool = True, gain: float = 1.0
    ) -> None:
        super().__init__()
        self.affine = EqualLinear(w_dim, f_in, gain=1.0, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(f_out, f_in, kernel, kernel))
        self.scale = 1.0 / math.sqrt(f_in * kernel * kernel)
        self.demodulate, self.gain = demodulate, gain

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w)  # (N, f_in)
        weight = self.weight * self.scale
        x = F.conv2d(
            x * styles[:, :, None, None].to(x.dtype), weight.to(x.dtype), padding=weight.shape[-1] // 2
        )
        if self.demodulate:
            energy = styles.float().square() @ weight.float().square().sum(dim=(2, 3)).T  # (N, f_out)
            x = x * (torch.rsqrt(energy + 1e-8) * self.gain)[:, :, None, None].to(x.dtype)
        return x


class SynthesisLayer(nn.Module):
    """[bilinear 2x up], modulated 3x3 conv, noise, bias, leaky ReLU."""

    def __init__(self, f_in: int, f_out: int, w_dim: int, size: int, up: bool = False) -> None:
        super().__init__()
        self.conv = ModulatedConv(f_in, f_out, 3, w_dim, gain=SQRT2)
        self.noise = NoiseInput(size)
        self.bias = nn.Parameter(torch.zeros(f_out))
        self.up = up

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        if self.up:
            x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
        x = self.noise(self.conv(x, w))
        return _act(x + self.bias[None, :, None, None].to(x.dtype))


class ToImage(nn.Module):
    """Modulated 1x1 convolution to the image channels, no demodulation, plus a bias."""

    def __init__(self, f_in: int, channels: int, w_dim: int) -> None:
        super().__init__()
        self.conv = ModulatedConv(f_in, channels, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return self.conv(x, w) + self.bias[None, :, None, None].to(x.dtype)


class StyleGenerator(nn.Module):
    """Mapping network + synthesis network with skip (toRGB per resolution) output, tanh at the end."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.z_dim, self.n_classes = config.z_dim, config.n_classes
        self.resolution, self.channels = config.resolution, config.channels
        feats = map_features(config.resolution, config.width)
        w_dim = min(512, 8 * config.width)
        self.mapping = MappingNetwork(config.z_dim, config.n_classes, w_dim)
        self.const = nn.Parameter(torch.randn(1, feats[4], 4, 4))
        self.layers = nn.ModuleList([SynthesisLayer(feats[4], feats[4], w_dim, 4)])
        self.to_image = nn.ModuleList([ToImage(feats[4], config.channels, w_dim)])
        for size in list(feats)[1:]:
            f_in, f_out = feats[size // 2], feats[size]
            self.layers.extend(
                [SynthesisLayer(f_in, f_out, w_dim, size, up=True), SynthesisLayer(f_out, f_out, w_dim, size)]
            )
            self.to_image.append(ToImage(f_out, config.channels, w_dim))

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        w = self.mapping(z, labels)
        x = self.layers[0](self.const.expand(z.shape[0], -1, -1, -1).to(w.dtype), w)
        img = self.to_image[0](x, w)
        for i, to_image in enumerate(self.to_image[1:]):
            x = self.layers[2 * i + 2](self.layers[2 * i + 1](x, w), w)
            img = F.interpolate(img, scale_factor=2.0, mode="bilinear", align_corners=False) + to_image(x, w)
        return torch.tanh(img)


class ResidualBlock(nn.Module):
    """3x3 conv, 2x2 average pool + 3x3 conv, plus a pooled 1x1 skip; the sum scaled by 1/sqrt(2).

    Pooling before the second convolution stands in for StyleGAN2's blur + stride-2 convolution (same
    cost, a box filter instead of the [1, 3, 3, 1] one)."""

    def __init__(self, f_in: int, f_out: int) -> None:
        super().__init__()
        self.conv0, self.conv1 = EqualConv2d(f_in, f_in, 3, 1), EqualConv2d(f_in, f_out, 3, 1)
        self.skip = EqualConv2d(f_in, f_out, 1, gain=1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        main = _act(self.conv1(F.avg_pool2d(_act(self.conv0(x)), 2)))
        return (self.skip(F.avg_pool2d(x, 2)) + main) / SQRT2


class StyleDiscriminator(nn.Module):
    """1x1 fromRGB, residual blocks down to 4x4, minibatch stddev, conv, two dense layers (+ projection)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.n_classes, self.resolution, self.channels = config.n_classes, config.resolution, config.channels
        feats = map_features(config.resolution, config.width)
        sizes = sorted(feats, reverse=True)
        self.from_image = EqualConv2d(config.channels, feats[sizes[0]], 1)
        self.blocks = nn.Sequential(*(ResidualBlock(feats[s], feats[s // 2]) for s in sizes[:-1]))
        f4 = feats[4]
        self.conv = EqualConv2d(f4 + 1, f4, 3, 1)
        self.dense = EqualLinear(f4 * 16, f4)
        self.out = EqualLinear(f4, 1, gain=1.0)
        self.projection = Projection(config.n_classes, f4) if config.n_classes else None

    def forward(
        self, x: torch.Tensor, labels: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        h = self.blocks(_act(self.from_image(x)))
        h = _act(self.conv(minibatch_stddev(h)))
        features = _act(self.dense(h.flatten(1)))
        logits = self.out(features).reshape(-1)
        if self.projection is not None:
            logits = logits + self.projection(features, labels) / math.sqrt(features.shape[1])
        return logits, None


@register_arch("stylegan2", PRESET)
def build(config: ModelConfig) -> tuple[nn.Module, nn.Module]:
    """Compact StyleGAN2 generator and residual discriminator."""
    return StyleGenerator(config), StyleDiscriminator(config)
