"""EMA generator: tracks the trained weights at the chosen rate and round-trips through state_dict."""

from __future__ import annotations

import pytest
import torch

from medgan.models.registry import ModelConfig, build_models
from medgan.train.ema import GeneratorEMA, ema_beta

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
