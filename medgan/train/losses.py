"""GAN losses as plain functions picked by name: ``bce``, ``wgan-clip``, ``wgan-gp``, ``hinge``.

- bce: non-saturating logistic loss (Goodfellow et al. 2014; DCGAN, AC-GAN).
- wgan-clip: Wasserstein critic loss with weight clipping after every critic step (Arjovsky et al. 2017).
- wgan-gp: Wasserstein loss + gradient penalty on real/fake interpolates (Gulrajani et al. 2017), plus
  the small drift term 0.001 * E[D(real)^2] of Karras et al. 2018 (ProGAN) that keeps critic outputs
  near zero, which mixed precision needs.
- hinge: hinge loss (Lim & Ye 2017; Miyato et al. 2018, SN-GAN).

When the discriminator returns class logits (AC-GAN), both losses add the auxiliary cross-entropy on the
true class (Odena et al. 2017). Two optional discriminator terms on real images, set by the architecture's
preset: the R1 penalty ||grad_x D(x)||^2 (Mescheder et al. 2018), applied lazily every N steps with its
weight scaled by N (StyleGAN2, Karras et al. 2020; see :func:`lazy_r1_weight`), and loss terms the
discriminator computes itself when called with ``real_losses=True`` (FastGAN's reconstruction).
``augment`` (DiffAugment or ADA) is applied to every image the
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
Stats = dict[str, torch.Tensor]  # detached scalars, left on the device (no host sync per step)
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


def r1_penalty(logits: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """E[||grad_x D(x)||^2] for ``images`` (which require grad) and their ``logits``; differentiable."""
    (grad,) = torch.autograd.grad(logits.float().sum(), images, create_graph=True)
    return grad.float().square().sum(dim=(1, 2, 3)).mean()


def lazy_r1_weight(gamma: float, every: int, step: int) -> float:
    """Weight of the R1 term at ``step``: ``gamma / 2 * every`` on every ``every``-th step, else 0."""
    return gamma / 2 * every if gamma and step % every == 0 else 0.0


def _aux_loss(class_logits: torch.Tensor | None, labels: torch.Tensor | None) -> torch.Tensor | None:
    if class_logits is None or labels is None:
        return None
    return F.cross_entropy(class_logits.float(), labels)


def _real_pass(
    D: Discriminator, real_in: torch.Tensor, labels: torch.Tensor | None, r1_weight: float, real_losses: bool
) -> tuple[torch.Tensor, torch.Tensor | None, dict[str, tuple[float, torch.Tensor]]]:
    """D on the real batch: logits, class logits and the extra real-image terms as ``{name: (weight, term)}``."""
    if r1_weight:
        real_in = real_in.detach().requires_grad_(True)
    out = D(real_in, labels, real_losses=True) if real_losses else D(real_in, labels)
    terms = {name: (1.0, term) for name, term in out[2].items()} if real_losses else {}
    if r1_weight:
        terms["r1"] = (r1_weight, r1_penalty(out[0], real_in))
    return out[0], out[1], terms


def discriminator_loss(
    kind: str,
    D: Discriminator,
    real: torch.Tensor,
    fake: torch.Tensor,
    labels: torch.Tensor | None,
    aux_weight: float = 1.0,
    gp_weight: float = 10.0,
    augment: Augment | None = None,
    r1_weight: float = 0.0,
    real_losses: bool = False,
) -> tuple[torch.Tensor, Stats]:
    """Discriminator loss on a real and a fake batch (``fake`` is detached here) with the same ``labels``.

    ``r1_weight`` > 0 adds that times the R1 penalty on the (augmented) real batch; ``real_losses`` adds
    the terms ``D(real, labels, real_losses=True)`` returns as its third item.
    Returns the loss and stats (detached 0-dim tensors, left on the device): ``loss_d``, ``d_real`` and
    ``d_fake`` (mean logits), ``d_real_sign`` (E[sign D(real)], ADA's overfitting measure), and ``gp`` /
    ``aux_d`` / ``r1`` / the discriminator's own terms when they apply.
    """
    spec = loss_kind(kind)
    real_in, fake_in = (real, fake.detach()) if augment is None else (augment(real), augment(fake.detach()))
    real_logits, real_cls, real_terms = _real_pass(D, real_in, labels, r1_weight, real_losses)
    fake_logits, fake_cls = D(fake_in, labels)
    loss = spec.d_loss(real_logits.float(), fake_logits.float())
    stats = {
        "d_real": real_logits.detach().float().mean(),
        "d_fake": fake_logits.detach().float().mean(),
        "d_real_sign": real_logits.detach().sign().float().mean(),
    }
    for name, (weight, term) in real_terms.items():
        loss = loss + weight * term
        stats[name] = term.detach()
    aux_real, aux_fake = _aux_loss(real_cls, labels), _aux_loss(fake_cls, labels)
    if aux_real is not None and aux_fake is not None:
        loss = loss + aux_weight * (aux_real + aux_fake)
        stats["aux_d"] = (aux_real + aux_fake).detach() / 2
    if spec.gradient_penalty:
        gp = gradient_penalty(D, real_in, fake_in, labels)
        loss = loss + gp_weight * gp
        stats["gp"] = gp.detach()
    stats["loss_d"] = loss.detach()
    return loss, stats


def generator_loss(
    kind: str,
    D: Discriminator,
    fake: torch.Tensor,
    labels: torch.Tensor | None,
    aux_weight: float = 1.0,
    augment: Augment | None = None,
) -> tuple[torch.Tensor, Stats]:
    """Generator loss on a fake batch (gradients flow into the generator). Stats: ``loss_g``, ``aux_g``."""
    spec = loss_kind(kind)
    logits, class_logits = D(fake if augment is None else augment(fake), labels)
    loss = spec.g_loss(logits.float())
    stats: Stats = {}
    aux = _aux_loss(class_logits, labels)
    if aux is not None:
        loss = loss + aux_weight * aux
        stats["aux_g"] = aux.detach()
    stats["loss_g"] = loss.detach()
    return loss, stats


@torch.no_grad()
def after_d_step(kind: str, D: nn.Module, clip: float | None) -> None:
    """After each discriminator update: clip its weights to [-clip, clip] for ``wgan-clip``."""
    if loss_kind(kind).clip_weights and clip:
        for p in D.parameters():
            p.clamp_(-clip, clip)
