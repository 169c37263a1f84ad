"""FastGAN: skip-layer excitation wiring, the self-supervised reconstruction term, noise inputs."""

from __future__ import annotations

import pytest
import torch

from medgan.models.conditioning import ClassBatchNorm
from medgan.models.fastgan import sle_pairs
from medgan.models.registry import ModelConfig, build_models, preset
from medgan.train.losses import discriminator_loss

torch.set_num_threads(1)  # 2 threads on a shared 2-core machine are ~30x slower (spin-waits)


def _fastgan(resolution: int = 32, channels: int = 1, n_classes: int = 0):
    torch.manual_seed(0)
    return build_models(ModelConfig("fastgan", resolution, channels, n_classes, z_dim=16, width=8))


@pytest.mark.parametrize(
    ("resolution", "generator_pairs", "discriminator_pairs"),
    [
        (256, [(4, 64), (8, 128), (16, 256)], [(256, 32), (128, 16), (64, 8)]),
        (64, [(4, 64)], [(64, 8)]),
        (32, [(4, 32)], [(32, 8)]),  # no pair 16x apart at 32 px: the two ends
    ],
)
def test_skip_layer_excitation_pairs(resolution, generator_pairs, discriminator_pairs):
    G, D = _fastgan(resolution)
    g_sizes = [4 * 2**i for i in range(len(G.sizes))]
    assert sle_pairs(g_sizes, 16) == generator_pairs
    assert sorted(G.sle_sources.items()) == sorted((t, s) for s, t in generator_pairs)
    assert sorted(D.sle_sources.items()) == sorted((t, s) for s, t in discriminator_pairs)


def test_excitation_gates_the_high_resolution_map():
    G, _ = _fastgan(64)
    sle = G.sle["64"]
    low, high = torch.randn(2, 128, 4, 4), torch.ones(2, 16, 64, 64)
    gated = sle(low, high)
    assert gated.shape == high.shape and (gated > 0).all() and (gated < 1).all()
    per_channel = gated[:, :, 0, 0]
    assert torch.equal(gated, per_channel[:, :, None, None].expand_as(gated))  # one gate per channel
    assert not torch.allclose(gated[0], gated[1])  # and per sample: it depends on the low map


def test_discriminator_reconstruction_term_only_on_real_images():
    _, D = _fastgan(64, channels=3, n_classes=2)
    x, labels = torch.rand(4, 3, 64, 64) * 2 - 1, torch.tensor([0, 1, 0, 1])
    logits, class_logits = D(x, labels)
    logits_r, _, terms = D(x, labels, real_losses=True)
    assert logits.shape == (4,) and class_logits is None and set(terms) == {"recon"}
    assert (
        torch.allclose(logits, logits_r, rtol=1e-3, atol=1e-3)
        and terms["recon"].ndim == 0
        and terms["recon"] > 0
    )
    loss, stats = discriminator_loss("hinge", D, x, x, labels, real_losses=True)
    assert "recon" in stats and stats["loss_d"] >= stats["recon"]
    _, plain = discriminator_loss("hinge", D, x, x, labels)
    assert "recon" not in plain


def test_decoders_learn_to_reconstruct_real_images():
    _, D = _fastgan(32)
    real = torch.rand(8, 1, 32, 32) * 2 - 1
    opt = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
    recon = []
    torch.manual_seed(1)
    for _ in range(15):
        loss, stats = discriminator_loss("hinge", D, real, real.flip(0), None, real_losses=True)
        opt.zero_grad()
        loss.backward()
        opt.step()
        recon.append(stats["recon"])
    assert recon[-1] < 0.7 * recon[0]


def test_noise_inputs_random_in_training_fixed_in_eval():
    G, _ = _fastgan(32)
    for noise in (m for m in G.modules() if hasattr(m, "strength")):
        noise.strength.data.fill_(0.5)
    z = torch.randn(3, 16)
    G.eval()
    with torch.no_grad():
        assert torch.equal(G(z), G(z))
        G.train()
        assert not torch.equal(G(z), G(z))


def test_preset_is_the_papers():
    p = preset("fastgan")
    assert (p.loss, p.lr_g, p.lr_d, p.betas, p.real_losses) == ("hinge", 2e-4, 2e-4, (0.5, 0.999), True)
    assert p.r1_gamma == 0.0


def test_conditional_generator_takes_the_class_in_every_batch_norm():
    """Class-conditional batch norm: every batch norm of the conditional generator has a per-class gain
    and bias; they start as plain batch norm and learn only from the rows of the classes in the batch."""
    G, _ = _fastgan(32, n_classes=3)
    norms = [m for m in G.modules() if isinstance(m, ClassBatchNorm)]
    # no class-blind affine left
    assert norms and not any(isinstance(m, torch.nn.BatchNorm2d) and m.affine for m in G.modules())
    assert all(torch.equal(m.gain.weight, torch.zeros_like(m.gain.weight)) for m in norms)
    z, labels = torch.randn(6, 16), torch.tensor([0, 1, 0, 1, 0, 1])
    G(z, labels).square().mean().backward()
    for m in norms:
        used, unused = m.bias.weight.grad[:2], m.bias.weight.grad[2]
        assert used.abs().sum() > 0 and torch.equal(unused, torch.zeros_like(unused))
    with pytest.raises(ValueError, match="pass labels"):
        G(z)


def test_class_batch_norm_gain_and_bias_act_per_class():
    norm = ClassBatchNorm(4, n_classes=2)
    x, labels = torch.randn(6, 4, 5, 5), torch.tensor([0, 1, 0, 1, 0, 1])
    plain = torch.nn.functional.batch_norm(x, None, None, training=True)
    assert torch.allclose(norm(x, labels), plain, atol=1e-5)
    with torch.no_grad():
        norm.gain.weight[1] = 1.0  # class 1: twice the normalised map, plus 3
        norm.bias.weight[1] = 3.0
    out = norm(x, labels)
    assert torch.allclose(out[0::2], plain[0::2], atol=1e-5)
    assert torch.allclose(out[1::2], 2 * plain[1::2] + 3, atol=1e-5)


def test_projection_discriminator_term_is_spectrally_normalised():
    _, D = _fastgan(64, n_classes=2)
    x, labels = torch.rand(4, 1, 64, 64) * 2 - 1, torch.tensor([0, 1, 0, 1])
    D(x, labels)  # a training-mode call runs the power iteration
    sigma = torch.linalg.matrix_norm(D.projection.embed.weight.detach(), ord=2)
    assert abs(float(sigma) - 1.0) < 0.05
    D.eval()
    with torch.no_grad():
        with_class = D(x, labels)[0]
        D.projection.embed.parametrizations.weight.original.zero_()
        without = D(x, labels)[0]
    assert not torch.allclose(with_class, without)  # the class term reaches the logit
