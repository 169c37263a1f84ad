"""FastGAN (Liu, Zhu, Song & Elgammal, ICLR 2021, "Towards Faster and Stabilized GAN Training for
High-fidelity Few-shot Image Synthesis").

Generator: from a 4x4 map, upsampling blocks (nearest x2, 3x3 convolution, batch norm, GLU; the first three
with two convolutions and noise inputs) up to the image size, and skip-layer excitation (SLE): a low
resolution map, pooled to 4x4, gates the channels of a map 16x larger (4 -> 64, 8 -> 128, 16 -> 256 px;
at 32 px, where no such pair exists, 4 -> 32). Discriminator: residual down blocks (strided convolution
path averaged with an average-pooled 1x1 path) to 8x8, SLE from each map onto the one 8x smaller (R -> 8
at 32 px), a 1x1 + 4x4 convolution head whose 5x5 patch logits are averaged. Self-supervision: on real
images two small decoders reconstruct the image at half size from the 8x8 features, and a random quadrant
of it from the matching quarter of the 16x16 features; the reconstruction error is added to the
discriminator's loss (``real_losses``). Spectral norm on every convolution, hinge loss, Adam (2e-4, betas
0.5, 0.999). The paper trains with DiffAugment; the training preset (medgan.train.config) uses ADA,
which scored lower FID on BUSI at equal CPU time (README). Class-conditional the way
batch-normalised GANs are (Miyato & Koyama 2018; BigGAN): every batch norm of the generator takes a
per-class gain and bias (``ClassBatchNorm``), and the discriminator adds a projection term (spectrally
normalised class embedding times the mean head features) to its logit. With a label embedding concatenated
to z and an unnormalised projection on summed features, conditional runs on demo-phantom collapsed to one
image per class within 100 steps; with these two changes together they did not (not tested one at a time).

Left out: the LPIPS perceptual reconstruction loss (it needs downloaded VGG weights; mean squared error is
used instead, as lightweight-gan does), the second discriminator branch on a 128 px copy of the image,
the random label smoothing of the hinge targets, and the 512/1024 px networks.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from medgan.models.conditioning import LabelledSequential, Projection, batch_norm
from medgan.models.noise import NoiseInput
from medgan.models.registry import ArchPreset, ModelConfig, register_arch

PRESET = ArchPreset(
    loss="hinge",
    optimizer="adam",
    lr_g=2e-4,
    lr_d=2e-4,
    betas=(0.5, 0.999),
    n_critic=1,
    real_losses=True,
    description="FastGAN: skip-layer excitation, self-supervised discriminator; made for few hundred images.",
)
G_FEATURES = {4: 16, 8: 8, 16: 4, 32: 2, 64: 2, 128: 1, 256: 0.5}  # x width, per map size (paper's nfc)
D_FEATURES = {8: 16, 16: 8, 32: 4, 64: 2, 128: 1, 256: 0.5, 512: 0.25}  # x width, per 2x map size (ditto)


def _features(table: dict[int, float], size: int, width: int) -> int:
    return max(2, int(table[size] * width))


def conv(*args: int, **kwargs: int | bool) -> nn.Module:
    """Spectrally normalised convolution (FastGAN normalises every convolution of both networks)."""
    return spectral_norm(nn.Conv2d(*args, **kwargs))


def sle_pairs(sizes: list[int], factor: int) -> list[tuple[int, int]]:
    """``(source, target)`` map sizes for skip-layer excitation ``factor`` apart (<0: towards smaller).

    Falls back to the two ends of ``sizes`` when no pair is that far apart (32 px networks).
    """
    present = set(sizes)
    pairs = [(s, int(s * factor if factor > 0 else s / -factor)) for s in sizes]
    pairs = [(s, t) for s, t in pairs if t in present]
    return pairs or [(sizes[0], sizes[-1])]


class GLU(nn.Module):
    """Gated linear unit over channels, ``a * sigmoid(b)``; written with ``chunk``, whose backward keeps
    channels_last gradients (``F.glu``'s made the following batch-norm backward ~2x slower on CPU)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = x.chunk(2, dim=1)
        return a * torch.sigmoid(b)


class SkipExcitation(nn.Module):
    """SLE: ``high * sigmoid(conv1x1(swish(conv4x4(pool4(low)))))``, a channel gate from another scale."""

    def __init__(self, f_low: int, f_high: int) -> None:
        super().__init__()
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(4),
            conv(f_low, f_high, 4, 1, 0, bias=False),
            nn.SiLU(),
            conv(f_high, f_high, 1, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
        return high * self.gate(low)


def up_block(f_in: int, f_out: int, size: int, noise: bool, n_classes: int = 0) -> LabelledSequential:
    """Nearest x2 to ``size``, then one (or, with noise, two) 3x3 conv + [noise] + batch norm + GLU; the
    batch norms are class-conditional when ``n_classes`` (call the block with the labels then)."""
    layers: list[nn.Module] = [nn.Upsample(scale_factor=2.0, mode="nearest")]
    for f in (f_in, f_out)[: 2 if noise else 1]:
        layers.append(conv(f, 2 * f_out, 3, 1, 1, bias=False))
        if noise:
            layers.append(NoiseInput(size))
        layers += [batch_norm(2 * f_out, n_classes), GLU()]
    return LabelledSequential(*layers)


class FastGenerator(nn.Module):
    """4x4 map from z, upsampling blocks with skip-layer excitation, 3x3 conv + tanh to the image; the
    labels (conditional) set the gain and bias of every batch norm."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.z_dim, self.n_classes = config.z_dim, config.n_classes
        self.resolution, self.channels = config.resolution, config.channels
        self.sizes = [4 * 2**i for i in range(int(math.log2(config.resolution)) - 1)]
        feats = {s: _features(G_FEATURES, s, config.width) for s in self.sizes}
        n_classes = config.n_classes
        self.init = LabelledSequential(
            spectral_norm(nn.ConvTranspose2d(config.z_dim, 2 * feats[4], 4, 1, 0, bias=False)),
            batch_norm(2 * feats[4], n_classes),
            GLU(),
        )
        self.blocks = nn.ModuleList(
            up_block(feats[s // 2], feats[s], s, noise=s <= 32, n_classes=n_classes) for s in self.sizes[1:]
        )
        self.sle_sources = dict((t, s) for s, t in sle_pairs(self.sizes, 16))
        self.sle = nn.ModuleDict(
            {str(t): SkipExcitation(feats[s], feats[t]) for t, s in self.sle_sources.items()}
        )
        self.to_image = conv(feats[config.resolution], config.channels, 3, 1, 1, bias=False)
        self.calibrate_batch_norm()

    @torch.no_grad()
    def calibrate_batch_norm(self, n: int = 8) -> None:
        """Start the running statistics at the network's own (one batch of noise) instead of mean 0, var 1.

        Without this the eval-mode generator (used for every sample) shrinks its activations at each
        layer until the running statistics catch up, and gives flat grey images for its first ~50 steps.
        """
        norms = [m for m in self.modules() if isinstance(m, nn.BatchNorm2d)]  # also inside ClassBatchNorm
        for m in norms:
            m.momentum = 1.0
        was_training = self.training
        self.train()
        self(torch.randn(n, self.z_dim), torch.arange(n) % self.n_classes if self.n_classes else None)
        self.train(was_training)
        for m in norms:
            m.momentum = 0.1

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        h = self.init(z[:, :, None, None], labels)
        maps = {4: h}
        for size, block in zip(self.sizes[1:], self.blocks, strict=True):
            h = block(h, labels)
            if size in self.sle_sources:
                h = self.sle[str(size)](maps[self.sle_sources[size]], h)
            maps[size] = h
        return torch.tanh(self.to_image(h))


class DownBlock(nn.Module):
    """Halve the size: (4x4 stride-2 conv, BN, LReLU, 3x3 conv, BN, LReLU) averaged with (pool, 1x1 conv)."""

    def __init__(self, f_in: int, f_out: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            conv(f_in, f_out, 4, 2, 1, bias=False),
            nn.BatchNorm2d(f_out),
            nn.LeakyReLU(0.2, True),
            conv(f_out, f_out, 3, 1, 1, bias=False),
            nn.BatchNorm2d(f_out),
            nn.LeakyReLU(0.2, True),
        )
        self.direct = nn.Sequential(
            nn.AvgPool2d(2), conv(f_in, f_out, 1, 1, 0, bias=False), nn.BatchNorm2d(f_out), nn.LeakyReLU(0.2)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.main(x) + self.direct(x)) / 2


def decoder(f_in: int, size: int, channels: int, width: int) -> nn.Sequential:
    """FastGAN's simple decoder: from an 8x8 map, upsampling blocks to ``size``, then 3x3 conv + tanh."""
    layers: list[nn.Module] = []
    s, f = 8, f_in
    while s < size:
        s *= 2
        f_next = _features(G_FEATURES, s, width)
        layers.append(up_block(f, f_next, s, noise=False))
        f = f_next
    layers += [conv(f, channels, 3, 1, 1, bias=False), nn.Tanh()]
    return nn.Sequential(*layers)


class FastDiscriminator(nn.Module):
    """Residual down blocks to 8x8 with SLE, patch-logit head, reconstruction decoders for real images."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.n_classes, self.resolution, self.channels = config.n_classes, config.resolution, config.channels
        w, res = config.width, config.resolution
        self.sizes = [res // 2**i for i in range(int(math.log2(res // 8)) + 1)]  # R, R/2, ..., 8
        feats = {s: _features(D_FEATURES, 2 * s, w) for s in self.sizes}
        self.stem = nn.Sequential(conv(config.channels, feats[res], 3, 1, 1, bias=False), nn.LeakyReLU(0.2))
        self.blocks = nn.ModuleList(DownBlock(feats[s], feats[s // 2]) for s in self.sizes[:-1])
        self.sle_sources = dict((t, s) for s, t in sle_pairs(self.sizes, -8))
        self.sle = nn.ModuleDict(
            {str(t): SkipExcitation(feats[s], feats[t]) for t, s in self.sle_sources.items()}
        )
        f_head = _features(D_FEATURES, 8, w)
        self.head_features = nn.Sequential(
            conv(feats[8], f_head, 1, 1, 0, bias=False), nn.BatchNorm2d(f_head), nn.LeakyReLU(0.2, True)
        )
        self.head = conv(f_head, 1, 4, 1, 0, bias=False)
        self.projection = Projection(config.n_classes, f_head, spectral=True) if config.n_classes else None
        self.decode_whole = decoder(feats[8], res // 2, config.channels, w // 2)
        self.decode_part = decoder(feats[16], res // 2, config.channels, w // 2)

    def forward(
        self, x: torch.Tensor, labels: torch.Tensor | None = None, real_losses: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None] | tuple[torch.Tensor, None, dict[str, torch.Tensor]]:
        """Logits ``(N,)``; with ``real_losses`` (real images only) also ``{"recon": reconstruction MSE}``."""
        h = self.stem(x)
        maps = {self.resolution: h}
        for size, block in zip(self.sizes[1:], self.blocks, strict=True):
            h = block(h)
            if size in self.sle_sources:
                h = self.sle[str(size)](maps[self.sle_sources[size]], h)
            maps[size] = h
        features = self.head_features(h)
        logits = self.head(features).mean(dim=(1, 2, 3))
        if self.projection is not None:
            # the mean, like the patch logits: the class term of each patch's logit, averaged
            logits = logits + self.projection(features.mean(dim=(2, 3)), labels)
        if not real_losses:  # the decoders join at weight 0, so DDP sees every parameter used in every pass
            return logits + 0.0 * sum(p.sum() for p in self.decoder_parameters()), None
        return logits, None, {"recon": self.reconstruction_loss(x, maps[8], maps[16])}

    def decoder_parameters(self) -> list[nn.Parameter]:
        """Parameters of the two reconstruction decoders."""
        return [*self.decode_whole.parameters(), *self.decode_part.parameters()]

    def reconstruction_loss(self, x: torch.Tensor, map8: torch.Tensor, map16: torch.Tensor) -> torch.Tensor:
        """MSE of the whole image (half size) from ``map8`` plus a random quadrant of it from ``map16``."""
        half = self.resolution // 2
        row, col = divmod(int(torch.randint(4, ())), 2)
        part = map16[:, :, row * 8 : row * 8 + 8, col * 8 : col * 8 + 8]
        target_part = x[:, :, row * half : (row + 1) * half, col * half : (col + 1) * half]
        whole = F.mse_loss(self.decode_whole(map8).float(), F.avg_pool2d(x, 2).float())
        return whole + F.mse_loss(self.decode_part(part).float(), target_part.float())


@register_arch("fastgan", PRESET)
def build(config: ModelConfig) -> tuple[nn.Module, nn.Module]:
    """FastGAN generator and self-supervised discriminator."""
    return FastGenerator(config), FastDiscriminator(config)
