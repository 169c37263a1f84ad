"""EMA generator: tracks the trained weights at the chosen rate and round-trips through state_dict."""

from __future__ import annotations

import pytest
import torch

from medgan.models.registry import ModelConfig, build_models
from medgan.train.ema import GeneratorEMA, batch_norms, ema_beta

torch.set_num_threads(1)  # 2 threads on a shared 2-core machine are ~30x slower (spin-waits)


def test_beta_from_half_life_in_images():
    assert ema_beta(64, 64) == pytest.approx(0.5)
    assert ema_beta(32, 10_000) == pytest.approx(0.5 ** (32 / 10_000))
    assert ema_beta(32, 10_000, images_seen=320, rampup=0.05) == pytest.approx(0.5 ** (32 / 16))


def test_ema_tracks_and_lags_the_generator():
    torch.manual_seed(0)
    G, _ = build_models(ModelConfig("dcgan", 32, 1, z_dim=8, width=4))
    ema = GeneratorEMA(G)
    assert not any(p.requires_grad for p in ema.model.parameters())
    start = [p.detach().clone() for p in G.parameters()]
    with torch.no_grad():
        for p in G.parameters():
            p.add_(1.0)
    ema.update(G, beta=0.75)
    for s, p_ema in zip(start, ema.model.parameters(), strict=True):
        assert torch.allclose(p_ema, s + 0.25)
    for _ in range(60):
        ema.update(G, beta=0.75)
    assert all(
        torch.allclose(a, b, atol=1e-5) for a, b in zip(ema.model.parameters(), G.parameters(), strict=True)
    )


def test_ema_state_dict_round_trip_and_progan_level_follows():
    G, _ = build_models(ModelConfig("progan", 32, 1, z_dim=8, width=4))
    ema = GeneratorEMA(G)
    G.set_level(1, 0.3)
    ema.update(G, 0.9)
    assert (ema.model.level, ema.model.alpha) == (1, 0.3)
    fresh = GeneratorEMA(build_models(ModelConfig("progan", 32, 1, z_dim=8, width=4))[0])
    fresh.load_state_dict(ema.state_dict())
    assert all(
        torch.equal(a, b) for a, b in zip(fresh.model.parameters(), ema.model.parameters(), strict=True)
    )


def _first_norm_input_var(
    model: torch.nn.Module, z: torch.Tensor, labels: torch.Tensor | None
) -> torch.Tensor:
    """Per-channel variance of what the first batch norm of ``model`` sees for noise ``z`` (eval mode)."""
    seen = []
    handle = batch_norms(model)[0].register_forward_hook(lambda _m, inputs, _out: seen.append(inputs[0]))
    with torch.no_grad():
        model.eval()(z, labels)
    handle.remove()
    return seen[0].var(dim=(0, 2, 3))


@pytest.mark.parametrize("conditional", [False, True])
def test_standing_statistics_belong_to_the_averaged_weights(conditional):
    """The EMA's batch norms get the statistics of its own images, not the ones copied from G (whose
    weights differ): the first norm's running variance matches the variance of its input on fresh noise."""
    torch.manual_seed(0)
    n_classes = 2 if conditional else 0
    G, _ = build_models(ModelConfig("fastgan", 32, 1, z_dim=8, width=4, n_classes=n_classes))
    labels = torch.tensor([0, 0, 0, 1]) if conditional else None
    ema = GeneratorEMA(G, z_dim=8, labels=labels)
    for norm in batch_norms(G):  # statistics that belong to other weights
        norm.running_var.fill_(100.0)
    ema.update(G, beta=0.5)  # the EMA's buffers are now G's, stale
    copied = batch_norms(ema.model)[0].running_var.clone()
    model = ema.sampling_model()
    standing = batch_norms(model)[0].running_var.clone()
    z = torch.randn(2048, 8)
    y = labels[torch.randint(len(labels), (2048,))] if conditional else None
    actual = _first_norm_input_var(model, z, y)
    assert torch.allclose(standing, actual, rtol=0.3)  # 256 noise vectors: ~9 % sampling error
    assert torch.equal(copied, torch.full_like(copied, 100.0))
    assert not model.training
    again = GeneratorEMA(G, z_dim=8, labels=labels)
    again.update(G, beta=0.5)
    assert torch.equal(batch_norms(again.sampling_model())[0].running_var, batch_norms(model)[0].running_var)


def test_a_generator_without_batch_norm_keeps_its_buffers():
    G, _ = build_models(ModelConfig("stylegan2", 32, 1, z_dim=8, width=4))
    ema = GeneratorEMA(G, z_dim=8)
    ema.update(G, 0.5)
    before = {k: v.clone() for k, v in ema.model.state_dict().items()}
    after = ema.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
