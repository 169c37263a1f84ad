"""DCGAN (Radford, Metz & Chintala 2016, "Unsupervised Representation Learning with Deep Convolutional GANs").

Non-saturating BCE loss, Adam (lr 2e-4, beta1 0.5). Class-conditional through a label embedding in the
generator and a projection discriminator.
"""

from __future__ import annotations

from torch import nn

from medgan.models.dcnets import DCDiscriminator, DCGenerator
from medgan.models.registry import ArchPreset, ModelConfig, register_arch

PRESET = ArchPreset(
    loss="bce",
    optimizer="adam",
    lr_g=2e-4,
    lr_d=2e-4,
    betas=(0.5, 0.999),
    description="DCGAN: the classic convolutional GAN; fast, a good first try.",
)


@register_arch("dcgan", PRESET)
def build(config: ModelConfig) -> tuple[nn.Module, nn.Module]:
    """Batch-norm generator and discriminator of the DCGAN paper."""
    return DCGenerator(config), DCDiscriminator(config, norm="batch")
