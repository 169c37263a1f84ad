"""AC-GAN (Odena, Olah & Shlens 2017, "Conditional Image Synthesis with Auxiliary Classifier GANs").

The generator gets the class through a label embedding; the discriminator has a second head that
classifies every image, and both networks also minimise that head's cross-entropy on the true class
(see :mod:`medgan.train.losses`). DCGAN networks, BCE loss, Adam (lr 2e-4, beta1 0.5).
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
    requires_conditional=True,
    description="AC-GAN: class-conditional DCGAN whose discriminator also classifies (needs labels).",
)


@register_arch("acgan", PRESET)
def build(config: ModelConfig) -> tuple[nn.Module, nn.Module]:
    """Conditional DCGAN generator; batch-norm discriminator with an auxiliary classifier head."""
    return DCGenerator(config), DCDiscriminator(config, norm="batch", aux_classifier=True)
