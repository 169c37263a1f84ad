"""GAN losses as plain functions picked by name: ``bce``, ``wgan-clip``, ``wgan-gp``, ``hinge``.

- bce: non-saturating logistic loss (Goodfellow et al. 2014; DCGAN, AC-GAN).
- wgan-clip: Wasserstein critic loss with weight clipping after every critic step (Arjovsky et al. 2017).
- wgan-gp: Wasserstein loss + gradient penalty on real/fake interpolates (Gulrajani et al. 2017), plus
  the small drift term 0.001 * E[D(real)^2] of Karras et al. 2018 (ProGAN) that keeps critic outputs
  near zero, which mixed precision needs.
- hinge: hinge loss (Lim & Ye 2017; Miyato et al. 2018, SN-GAN).

When the discriminator returns class logits (AC-GAN), both losses add the auxiliary cross-entropy on the
true class (Odena et al. 2017). ``augment`` (DiffAugment or ADA) is applied to every image the
discriminator sees, real and fake, in both losses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

Discriminator = Callable[[torch.Tensor, torch.Tensor | None], tuple[torch.Tensor, torch.Tensor | None]]
Augment = Callable[[torch.Tensor], torch.Tensor]
DRIFT = 1e-3


def d_logistic(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """-log sigmoid(D(real)) - log(1 - sigmoid(D(fake)))."""
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def g_logistic(fake: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss -log sigmoid(D(fake))."""
    return F.softplus(-fake).mean()


def d_wasserstein(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Critic loss E[D(fake)] - E[D(real)]."""
    return fake.mean() - real.mean()


def d_wasserstein_drift(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Critic loss plus ProGAN's drift term."""
    return d_wasserstein(real, fake) + DRIFT * real.float().square().mean()


def g_wasserstein(fake: torch.Tensor) -> torch.Tensor:
    """Generator loss -E[D(fake)] (also the hinge generator loss)."""
    return -fake.mean()


def d_hinge(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """E[relu(1 - D(real))] + E[relu(1 + D(fake))]."""
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


@dataclass(frozen=True)
class LossKind:
    """A loss: discriminator and generator terms, whether it adds a gradient penalty, whether it clips."""

    d_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    g_loss: Callable[[torch.Tensor], torch.Tensor]
    gradient_penalty: bool = False
    clip_weights: bool = False


LOSSES: dict[str, LossKind] = {
    "bce": LossKind(d_logistic, g_logistic),
    "wgan-clip": LossKind(d_wasserstein, g_wasserstein, clip_weights=True),
    "wgan-gp": LossKind(d_wasserstein_drift, g_wasserstein, gradient_penalty=True),
    "hinge": LossKind(d_hinge, g_wasserstein),
}


def loss_kind(kind: str) -> LossKind:
    """The loss named ``kind``; ValueError naming the known ones otherwise."""
    if kind not in LOSSES:
        raise ValueError(f"unknown loss {kind!r}; known: {', '.join(LOSSES)}")
    return LOSSES[kind]


def gradient_penalty(
    D: Discriminator, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor | None
) -> torch.Tensor:
    """E[(||grad_x D(x_hat)||_2 - 1)^2] on random interpolates x_hat (computed in float32, AMP-safe)."""
    with torch.autocast(device_type=real.device.type, enabled=False):
        eps = torch.rand(real.shape[0], 1, 1, 1, device=real.device)
        x_hat = torch.lerp(real.detach().float(), fake.detach().float(), eps).requires_grad_(True)
        logits, _ = D(x_hat, labels)
        (grad,) = torch.autograd.grad(logits.sum(), x_hat, create_graph=True)
        return (grad.reshape(grad.shape[0], -1).norm(2, dim=1) - 1.0).square().mean()


def _aux_loss(class_logits: torch.Tensor | None, labels: torch.Tensor | None) -> torch.Tensor | None:
    if class_logits is None or labels is None:
        return None
    return F.cross_entropy(class_logits.float(), labels)


def discriminator_loss(
    kind: str,
    D: Discriminator,
    real: torch.Tensor,
    fake: torch.Tensor,
    labels: torch.Tensor | None,
    aux_weight: float = 1.0,
    gp_weight: float = 10.0,
    augment: Augment | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Discriminator loss on a real and a fake batch (``fake`` is detached here) with the same ``labels``.

    Returns the loss and stats: ``loss_d``, ``d_real`` and ``d_fake`` (mean logits), ``d_real_sign``
    (E[sign D(real)], ADA's overfitting measure), and ``gp`` / ``aux_d`` when they apply.
    """
    spec = loss_kind(kind)
    real_in, fake_in = (real, fake.detach()) if augment is None else (augment(real), augment(fake.detach()))
    real_logits, real_cls = D(real_in, labels)
    fake_logits, fake_cls = D(fake_in, labels)
    loss = spec.d_loss(real_logits.float(), fake_logits.float())
    stats = {
        "d_real": real_logits.detach().float().mean().item(),
        "d_fake": fake_logits.detach().float().mean().item(),
        "d_real_sign": real_logits.detach().sign().float().mean().item(),
    }
    aux_real, aux_fake = _aux_loss(real_cls, labels), _aux_loss(fake_cls, labels)
    if aux_real is not None and aux_fake is not None:
        loss = loss + aux_weight * (aux_real + aux_fake)
        stats["aux_d"] = (aux_real + aux_fake).item() / 2
    if spec.gradient_penalty:
        gp = gradient_penalty(D, real_in, fake_in, labels)
        loss = loss + gp_weight * gp
        stats["gp"] = gp.item()
    stats["loss_d"] = loss.item()
    return loss, stats


def generator_loss(
    kind: str,
    D: Discriminator,
    fake: torch.Tensor,
    labels: torch.Tensor | None,
    aux_weight: float = 1.0,
    augment: Augment | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Generator loss on a fake batch (gradients flow into the generator). Stats: ``loss_g``, ``aux_g``."""
    spec = loss_kind(kind)
    logits, class_logits = D(fake if augment is None else augment(fake), labels)
    loss = spec.g_loss(logits.float())
    stats: dict[str, float] = {}
    aux = _aux_loss(class_logits, labels)
    if aux is not None:
        loss = loss + aux_weight * aux
        stats["aux_g"] = aux.item()
    stats["loss_g"] = loss.item()
    return loss, stats


@torch.no_grad()
def after_d_step(kind: str, D: nn.Module, clip: float | None) -> None:
    """After each discriminator update: clip its weights to [-clip, clip] for ``wgan-clip``."""
    if loss_kind(kind).clip_weights and clip:
        for p in D.parameters():
            p.clamp_(-clip, clip)
