"""WGAN with weight clipping (Arjovsky, Chintala & Bottou 2017) and WGAN-GP (Gulrajani et al. 2017).

Both use the DCGAN networks. WGAN: batch-norm critic, RMSprop (lr 5e-5), 5 critic steps per generator step,
critic weights clipped to [-0.01, 0.01]. WGAN-GP: layer-norm critic (a gradient penalty is per sample, so no
batch norm), Adam (lr 1e-4, betas 0, 0.9), 5 critic steps, penalty weight 10.
"""

from __future__ import annotations

from torch import nn

from medgan.models.dcnets import DCDiscriminator, DCGenerator
from medgan.models.registry import ArchPreset, ModelConfig, register_arch

WGAN_PRESET = ArchPreset(
    loss="wgan-clip",
    optimizer="rmsprop",
    lr_g=5e-5,
    lr_d=5e-5,
    betas=(0.0, 0.0),
    n_critic=5,
    clip=0.01,
    description="WGAN: Wasserstein loss with weight clipping; stable but slow to converge.",
)
WGAN_GP_PRESET = ArchPreset(
    loss="wgan-gp",
    optimizer="adam",
    lr_g=1e-4,
    lr_d=1e-4,
    betas=(0.0, 0.9),
    n_critic=5,
    gp_weight=10.0,
    description="WGAN-GP: Wasserstein loss with a gradient penalty; robust, 5 critic steps per step.",
)


@register_arch("wgan", WGAN_PRESET)
def build_wgan(config: ModelConfig) -> tuple[nn.Module, nn.Module]:
    """DCGAN generator and batch-norm critic (clipped by the trainer after each critic step)."""
    return DCGenerator(config), DCDiscriminator(config, norm="batch")


@register_arch("wgan-gp", WGAN_GP_PRESET)
def build_wgan_gp(config: ModelConfig) -> tuple[nn.Module, nn.Module]:
    """DCGAN generator and layer-norm critic."""
    return DCGenerator(config), DCDiscriminator(config, norm="layer")
