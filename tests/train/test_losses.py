"""GAN losses: values on known logits, gradient penalty, weight clipping, AC-GAN auxiliary term."""

from __future__ import annotations

import math

import pytest
import torch

from medgan.models.registry import ModelConfig, build_models
from medgan.train.losses import (
    LOSSES,
    after_d_step,
    discriminator_loss,
    generator_loss,
    gradient_penalty,
    lazy_r1_weight,
    r1_penalty,
)

torch.set_num_threads(1)  # 2 threads on a shared 2-core machine are ~30x slower (spin-waits)


class FixedD(torch.nn.Module):
    """A 'discriminator' whose logit is a * mean(x): known values and gradients."""

    def __init__(self, a: float = 2.0, n_classes: int = 0) -> None:
        super().__init__()
        self.a = torch.nn.Parameter(torch.tensor(a))
        self.n_classes = n_classes

    def forward(self, x, labels=None):
        logits = self.a * x.mean(dim=(1, 2, 3))
        cls = torch.stack([logits, -logits], dim=1) if self.n_classes else None
        return logits, cls


def test_loss_values_on_known_logits():
    D = FixedD(1.0)
    real, fake = torch.ones(4, 1, 2, 2), -torch.ones(4, 1, 2, 2)  # D(real) = 1, D(fake) = -1
    expected = {"bce": 2 * math.log1p(math.exp(-1)), "wgan-clip": -2.0, "hinge": 0.0}
    for kind, value in expected.items():
        loss, stats = discriminator_loss(kind, D, real, fake, None)
        assert loss.item() == pytest.approx(value, abs=1e-5), kind
        assert stats["d_real"] == pytest.approx(1.0) and stats["d_fake"] == pytest.approx(-1.0)
        assert stats["d_real_sign"] == 1.0
    assert generator_loss("hinge", D, fake, None)[0].item() == pytest.approx(1.0)
    assert generator_loss("bce", D, fake, None)[0].item() == pytest.approx(math.log1p(math.e))
    with pytest.raises(ValueError, match="unknown loss"):
        discriminator_loss("lsgan", D, real, fake, None)


def test_gradient_penalty_is_positive_and_exact_for_a_linear_critic():
    real, fake = torch.randn(8, 1, 4, 4), torch.randn(8, 1, 4, 4)
    # grad of a * mean(x) has norm a / 4 (16 pixels): penalty (a/4 - 1)^2
    assert gradient_penalty(FixedD(2.0), real, fake, None).item() == pytest.approx(0.25, rel=1e-5)
    assert gradient_penalty(FixedD(4.0), real, fake, None).item() == pytest.approx(0.0, abs=1e-8)
    _, D = build_models(ModelConfig("wgan-gp", 32, 1, z_dim=8, width=4))
    loss, stats = discriminator_loss("wgan-gp", D, real.repeat(1, 1, 8, 8), fake.repeat(1, 1, 8, 8), None)
    assert stats["gp"] > 0 and torch.isfinite(loss)
    loss.backward()
    assert all(p.grad is not None for p in D.parameters())


def test_lazy_r1_is_exact_for_a_linear_critic_and_only_on_every_nth_step():
    real, fake = torch.randn(8, 1, 4, 4), torch.randn(8, 1, 4, 4)
    x = real.clone().requires_grad_(True)
    # grad of a * mean(x) is a / 16 per pixel: squared norm 16 * (a / 16)^2 = a^2 / 16
    assert r1_penalty(FixedD(2.0)(x)[0], x).item() == pytest.approx(0.25, rel=1e-5)
    assert [lazy_r1_weight(0.5, 4, step) for step in range(5)] == [1.0, 0.0, 0.0, 0.0, 1.0]
    assert lazy_r1_weight(0.0, 4, 0) == 0.0
    D = FixedD(2.0)
    plain, stats = discriminator_loss("bce", D, real, fake, None)
    regularised, stats_r1 = discriminator_loss("bce", D, real, fake, None, r1_weight=3.0)
    assert "r1" not in stats and stats_r1["r1"] == pytest.approx(0.25, rel=1e-5)
    assert (regularised - plain).item() == pytest.approx(0.75, rel=1e-5)
    regularised.backward()  # the penalty is differentiable in D's weights: d(3 * a^2 / 16)/da adds 0.75
    D_plain = FixedD(2.0)
    discriminator_loss("bce", D_plain, real, fake, None)[0].backward()
    assert (D.a.grad - D_plain.a.grad).item() == pytest.approx(0.75, rel=1e-4)


def test_weight_clipping_bounds_wgan_weights_only_for_wgan_clip():
    _, D = build_models(ModelConfig("wgan", 32, 1, z_dim=8, width=4))
    with torch.no_grad():
        for p in D.parameters():
            p.mul_(100)
    after_d_step("bce", D, 0.01)
    assert max(p.abs().max().item() for p in D.parameters()) > 0.01
    after_d_step("wgan-clip", D, 0.01)
    assert max(p.abs().max().item() for p in D.parameters()) <= 0.01


def test_auxiliary_classifier_loss_is_added_for_acgan():
    D = FixedD(1.0, n_classes=2)
    real, fake = torch.ones(4, 1, 2, 2), -torch.ones(4, 1, 2, 2)
    labels = torch.tensor([0, 0, 1, 1])
    plain, _ = discriminator_loss("bce", FixedD(1.0), real, fake, labels)
    with_aux, stats = discriminator_loss("bce", D, real, fake, labels)
    assert with_aux.item() > plain.item() and stats["aux_d"] > 0
    _, stats_g = generator_loss("bce", D, fake, labels, aux_weight=0.5)
    assert stats_g["aux_g"] > 0


def test_augment_is_applied_to_what_d_sees():
    D = FixedD(1.0)
    real, fake = torch.ones(2, 1, 2, 2), -torch.ones(2, 1, 2, 2)
    _, stats = discriminator_loss("hinge", D, real, fake, None, augment=lambda x: x * 0)
    assert stats["d_real"] == 0.0 and stats["d_fake"] == 0.0


def test_every_loss_kind_is_named_by_a_preset():
    from medgan.models.registry import arch_names, preset

    assert {preset(a).loss for a in arch_names()} == set(LOSSES)
