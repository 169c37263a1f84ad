"""Every registered architecture builds, generates the right shape and range, and trains a step."""

from __future__ import annotations

import pytest
import torch

from medgan.models.registry import ModelConfig, arch_names, build_models, count_parameters, preset
from medgan.train.ada import AugmentPipe
from medgan.train.diffaugment import DiffAugment
from medgan.train.losses import after_d_step, discriminator_loss, generator_loss, lazy_r1_weight

torch.set_num_threads(1)  # 2 threads on a shared 2-core machine are ~30x slower (spin-waits)
ARCHS = ["dcgan", "wgan", "wgan-gp", "sngan", "acgan", "progan", "fastgan", "stylegan2"]

# (arch, resolution, channels, n_classes)
CASES = [
    (arch, 32, channels, n_classes)
    for arch in ARCHS
    for channels, n_classes in [(1, 0), (3, 2), (5, 3)]
    if not (arch == "acgan" and n_classes == 0)
] + [
    ("dcgan", 64, 1, 0),
    ("sngan", 64, 3, 2),
    ("acgan", 64, 1, 2),
    ("progan", 64, 1, 2),
    ("wgan-gp", 128, 1, 0),
    ("progan", 128, 1, 0),
    ("dcgan", 256, 3, 0),
    ("fastgan", 64, 3, 2),
    ("fastgan", 128, 1, 0),
    ("fastgan", 256, 1, 0),
    ("stylegan2", 64, 3, 2),
    ("stylegan2", 128, 1, 0),
]


def _build(arch: str, resolution: int, channels: int, n_classes: int, width: int = 8):
    torch.manual_seed(0)
    return build_models(ModelConfig(arch, resolution, channels, n_classes, z_dim=16, width=width))


def _labels(n: int, n_classes: int) -> torch.Tensor | None:
    return torch.arange(n) % n_classes if n_classes else None


def test_registry_lists_all_architectures_with_presets():
    assert arch_names() == ARCHS
    assert {preset(a).loss for a in ARCHS} == {"bce", "wgan-clip", "wgan-gp", "hinge"}
    assert preset("wgan").optimizer == "rmsprop" and preset("wgan").clip == 0.01
    assert all(preset(a).description for a in ARCHS)


@pytest.mark.parametrize(("arch", "resolution", "channels", "n_classes"), CASES)
def test_shapes_and_ranges(arch, resolution, channels, n_classes):
    G, D = _build(arch, resolution, channels, n_classes)
    assert (G.z_dim, G.n_classes, G.resolution, G.channels) == (16, n_classes, resolution, channels)
    labels = _labels(4, n_classes)
    with torch.no_grad():
        x = G(torch.randn(4, 16), labels)
        logits, class_logits = D(x, labels)
    assert x.shape == (4, channels, resolution, resolution)
    assert x.min() >= -1.0 and x.max() <= 1.0 and x.std() > 0
    assert logits.shape == (4,) and torch.isfinite(logits).all()
    if arch == "acgan":
        assert class_logits.shape == (4, n_classes)
    else:
        assert class_logits is None


@pytest.mark.parametrize("arch", ARCHS)
def test_one_optimisation_step_has_finite_losses(arch):
    n_classes = 2
    G, D = _build(arch, 32, 1, n_classes)
    p = preset(arch)
    opt_g = torch.optim.Adam(G.parameters(), lr=p.lr_g)
    opt_d = torch.optim.Adam(D.parameters(), lr=p.lr_d)
    real = torch.rand(8, 1, 32, 32) * 2 - 1
    labels = _labels(8, n_classes)
    fake = G(torch.randn(8, 16), labels)
    extra = {"r1_weight": lazy_r1_weight(p.r1_gamma, p.r1_every, 0), "real_losses": p.real_losses}
    loss_d, stats_d = discriminator_loss(p.loss, D, real, fake, labels, gp_weight=p.gp_weight, **extra)
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()
    after_d_step(p.loss, D, p.clip)
    loss_g, stats_g = generator_loss(p.loss, D, fake, labels)
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    assert torch.isfinite(loss_d) and torch.isfinite(loss_g)
    assert {"d_real", "d_fake", "loss_d"} <= set(stats_d) and "loss_g" in stats_g
    grads = [g.grad for g in G.parameters() if g.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)


def test_dcgan_at_64px_is_the_paper_network():
    G, D = build_models(ModelConfig("dcgan", 64, 3, z_dim=100, width=64))
    assert count_parameters(G) == 3_576_704  # PyTorch DCGAN tutorial, nz=100, ngf=64
    assert count_parameters(D) == 2_765_568


def test_spectral_norm_present_in_sngan_only():
    def has_sn(module):
        return any(torch.nn.utils.parametrize.is_parametrized(m, "weight") for m in module.modules())

    assert has_sn(_build("sngan", 32, 1, 0)[1])
    assert not has_sn(_build("dcgan", 32, 1, 0)[1])


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        (ModelConfig("nope", 32, 1), "unknown architecture"),
        (ModelConfig("dcgan", 48, 1), "resolution"),
        (ModelConfig("acgan", 32, 1), "needs a labelled dataset"),
        (ModelConfig("dcgan", 32, 0), "channels"),
        (ModelConfig("dcgan", 32, 1, n_classes=1), "n_classes"),
    ],
)
def test_invalid_configs_are_rejected_with_a_reason(config, reason):
    with pytest.raises(ValueError, match=reason):
        build_models(config)


def test_conditional_models_need_labels():
    G, D = _build("dcgan", 32, 1, 2)
    with pytest.raises(ValueError, match="labels"):
        G(torch.randn(2, 16))


@pytest.mark.parametrize("arch", ARCHS)
def test_channels_last_and_autocast_run(arch):
    G, D = _build(arch, 32, 3, 2, width=4)
    G, D = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
    labels = _labels(4, 2)
    p = preset(arch)
    kind, extra = p.loss, {"r1_weight": p.r1_gamma, "real_losses": p.real_losses}
    with torch.autocast("cpu", dtype=torch.bfloat16):
        fake = G(torch.randn(4, 16), labels)
        loss_d, stats = discriminator_loss(
            kind, D, fake.detach(), fake, labels, augment=DiffAugment(), **extra
        )
        loss_g, _ = generator_loss(kind, D, fake, labels, augment=AugmentPipe(0.5))
    (loss_d + loss_g).backward()
    assert torch.isfinite(loss_d) and torch.isfinite(loss_g)
    assert stats.get("gp", 0.0) >= 0


@pytest.mark.parametrize("arch", ARCHS)
def test_discriminator_learns_to_separate_a_fixed_real_and_fake_batch(arch):
    G, D = _build(arch, 32, 1, 2, width=4)
    p = preset(arch)
    labels = _labels(8, 2)
    real = torch.rand(8, 1, 32, 32) * 0.5 + 0.5
    with torch.no_grad():
        fake = G(torch.randn(8, 16), labels)
    opt = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.99))
    losses = []
    for _ in range(12):
        loss, _ = discriminator_loss(p.loss, D, real, fake, labels, gp_weight=p.gp_weight)
        opt.zero_grad()
        loss.backward()
        opt.step()
        after_d_step(p.loss, D, p.clip)
        losses.append(loss.item())
    assert losses[-1] < losses[0]
