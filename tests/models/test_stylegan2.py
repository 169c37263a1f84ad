"""StyleGAN2: modulated/demodulated convolution, skip generator, mapping network, preset, noise inputs."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from medgan.models.registry import ModelConfig, build_models, preset
from medgan.models.stylegan2 import ModulatedConv, map_features

torch.set_num_threads(1)  # 2 threads on a shared 2-core machine are ~30x slower (spin-waits)


def _stylegan2(resolution: int = 32, n_classes: int = 0):
    torch.manual_seed(0)
    return build_models(ModelConfig("stylegan2", resolution, 1, n_classes, z_dim=16, width=8))


def _reference_modulated_conv(conv: ModulatedConv, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """The paper's formulation: one modulated (and demodulated) weight per sample, grouped convolution."""
    n, f_in = x.shape[:2]
    styles = conv.affine(w)
    weight = conv.weight[None] * conv.scale * styles[:, None, :, None, None]  # (N, out, in, k, k)
    if conv.demodulate:
        weight = weight * torch.rsqrt(weight.square().sum(dim=(2, 3, 4), keepdim=True) + 1e-8)
    out = F.conv2d(
        x.reshape(1, n * f_in, *x.shape[2:]),
        weight.reshape(-1, f_in, *weight.shape[3:]),
        padding=weight.shape[-1] // 2,
        groups=n,
    )
    return out.reshape(n, -1, *out.shape[2:])


@pytest.mark.parametrize("demodulate", [True, False])
def test_modulated_conv_equals_per_sample_weights(demodulate):
    torch.manual_seed(0)
    conv = ModulatedConv(6, 5, 3, w_dim=7, demodulate=demodulate)
    x, w = torch.randn(4, 6, 8, 8), torch.randn(4, 7)
    assert torch.allclose(conv(x, w), _reference_modulated_conv(conv, x, w), atol=1e-5)


def test_demodulation_removes_the_style_scale():
    torch.manual_seed(0)
    conv = ModulatedConv(16, 8, 3, w_dim=4)
    x, w = torch.randn(2, 16, 8, 8), torch.randn(2, 4)
    out = conv(x, w)
    with torch.no_grad():
        conv.affine.weight.mul_(5.0)
        conv.affine.bias.mul_(5.0)
    assert torch.allclose(conv(x, w), out, atol=1e-4)  # styles 5x larger, same output
    # unit-variance input, independent channels: output channels have about unit variance
    assert 0.7 < conv(torch.randn(64, 16, 8, 8), torch.randn(64, 4)).std().item() < 1.3


def test_skip_generator_has_one_image_output_per_resolution():
    G, D = _stylegan2(64)
    assert len(G.to_image) == 5 and len(G.layers) == 1 + 2 * 4  # 4, 8, 16, 32, 64 px
    assert map_features(64, 8) == {4: 64, 8: 64, 16: 32, 32: 16, 64: 8}
    assert map_features(256, 64) == {s: min(512, 16384 // s) for s in (4, 8, 16, 32, 64, 128, 256)}
    assert len(D.blocks) == 4  # 64 -> 4 px
    with torch.no_grad():
        G.to_image[-1].bias.fill_(0.3)  # the last resolution's image is added to the upsampled sum
        shifted = G.eval()(torch.zeros(1, 16))
        G.to_image[-1].bias.fill_(0.0)
        base = G(torch.zeros(1, 16))
    assert torch.allclose(
        torch.atanh(shifted.clamp(-0.999, 0.999)) - torch.atanh(base.clamp(-0.999, 0.999)),
        torch.full_like(base, 0.3),
        atol=1e-2,
    )


def test_mapping_network_learning_rate_multiplier():
    G, _ = _stylegan2()
    layer = G.mapping.layers[0]
    assert layer.lr_mul == 0.01 and 80 < layer.weight.std().item() < 120  # N(0, 1) / lr_mul
    w = G.mapping(torch.randn(8, 16), None)
    assert w.shape == (8, 64) and torch.isfinite(w).all()


def test_conditional_label_changes_the_image():
    G, D = _stylegan2(32, n_classes=3)
    z = torch.randn(4, 16).repeat(2, 1)
    labels = torch.tensor([0, 0, 0, 0, 2, 2, 2, 2])
    with torch.no_grad():
        x = G.eval()(z, labels)
        logits, _ = D(x, labels)
    assert not torch.allclose(x[:4], x[4:]) and logits.shape == (8,)


def test_noise_inputs_random_in_training_fixed_in_eval():
    G, _ = _stylegan2()
    for layer in G.layers:
        layer.noise.strength.data.fill_(0.5)
    z = torch.randn(3, 16)
    with torch.no_grad():
        G.eval()
        assert torch.equal(G(z), G(z))
        G.train()
        assert not torch.equal(G(z), G(z))


def test_preset_is_stylegan2_adas():
    p = preset("stylegan2")
    assert (p.loss, p.betas, p.r1_every, p.real_losses) == ("bce", (0.0, 0.99), 16, False)
    assert p.r1_gamma > 0 and p.lr_g == p.lr_d == 2.5e-3
