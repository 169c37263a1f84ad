"""ProGAN: growth schedule, fade-in, levels, and the pieces of the paper (equalized LR, pixel norm, mbstd)."""

from __future__ import annotations

import pytest
import torch

from medgan.models.progan import grow_schedule, minibatch_stddev, pixel_norm
from medgan.models.registry import ModelConfig, build_models

torch.set_num_threads(1)  # 2 threads on a shared 2-core machine are ~30x slower (spin-waits)


def _progan(resolution: int = 32, n_classes: int = 0):
    torch.manual_seed(0)
    return build_models(ModelConfig("progan", resolution, 1, n_classes, z_dim=16, width=8))


@pytest.mark.parametrize(("total", "max_level"), [(100, 3), (1000, 4), (7, 2), (50, 6)])
def test_grow_schedule_is_monotonic_and_ends_at_max_level(total, max_level):
    schedule = [grow_schedule(step, total, max_level) for step in range(total + 1)]
    assert schedule[0] == (0, 1.0)
    assert schedule[-1] == (max_level, 1.0) and schedule[total - 1] == (max_level, 1.0)
    assert all(0.0 <= alpha <= 1.0 for _, alpha in schedule)
    for (level_a, alpha_a), (level_b, alpha_b) in zip(schedule, schedule[1:], strict=False):
        assert level_b in (level_a, level_a + 1)  # never shrinks, never skips a level
        assert alpha_b >= alpha_a if level_b == level_a else alpha_a == 1.0  # grows only when faded in


def test_grow_schedule_fades_in_each_level():
    alphas = [grow_schedule(s, 1000, 3)[1] for s in range(1000) if grow_schedule(s, 1000, 3)[0] == 2]
    assert alphas[0] < 0.05 and alphas[-1] == 1.0 and any(0.4 < a < 0.6 for a in alphas)


def test_levels_and_fade_in_change_the_output():
    G, D = _progan(32)
    assert G.max_level == D.max_level == 3
    z = torch.randn(4, 16)
    with torch.no_grad():
        full = G(z)
        G.set_level(2, 0.5)
        half_faded = G(z)
        G.set_level(2, 1.0)
        level2 = G(z)
        D.set_level(2, 0.5)
        logits, _ = D(level2)
    assert full.shape == half_faded.shape == level2.shape == (4, 1, 32, 32)
    assert not torch.allclose(half_faded, level2)
    # at level 2 (16 px) each 16 px pixel is repeated 2x2 to fill 32 px
    assert torch.equal(level2[..., ::2, ::2], level2[..., 1::2, 1::2])
    assert logits.shape == (4,) and torch.isfinite(logits).all()
    with pytest.raises(ValueError, match="level"):
        G.set_level(4, 1.0)


def test_equalized_lr_weights_are_unit_normal():
    G, _ = _progan(64)
    weight = G.blocks[-1].conv1.weight
    assert 0.8 < weight.std().item() < 1.2 and G.blocks[-1].conv1.scale < 1.0


def test_pixel_norm_and_minibatch_stddev():
    x = torch.randn(6, 5, 4, 4) * 7
    assert torch.allclose(pixel_norm(x).square().mean(dim=1), torch.ones(6, 4, 4), atol=1e-4)
    y = minibatch_stddev(x)
    assert y.shape == (6, 6, 4, 4) and (y[:, -1] > 0).all()
    constant = torch.tensor([0.0, 2.0, 0.0, 2.0]).reshape(4, 1, 1, 1).expand(4, 1, 3, 3)
    assert torch.allclose(minibatch_stddev(constant)[:, -1], torch.ones(4, 3, 3), atol=1e-3)
