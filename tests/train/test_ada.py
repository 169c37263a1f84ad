"""ADA: the augment pipe and the controller that adapts p toward the target."""

from __future__ import annotations

import pytest
import torch

from medgan.train.ada import AdaController, AugmentPipe

torch.set_num_threads(1)  # 2 threads on a shared 2-core machine are ~30x slower (spin-waits)


def test_p_zero_is_identity_and_p_one_augments_differentiably():
    torch.manual_seed(0)
    x = torch.rand(8, 3, 16, 16, requires_grad=True)
    assert AugmentPipe(0.0)(x) is x
    y = AugmentPipe(1.0)(x)
    assert y.shape == x.shape and not torch.allclose(y, x)
    y.sum().backward()
    assert x.grad.abs().sum() > 0


@pytest.mark.parametrize("channels", [1, 4])
def test_geometry_without_scaling_is_a_permutation_of_pixels_for_any_channel_count(channels):
    torch.manual_seed(1)
    pipe = AugmentPipe(1.0, scale_std=0.0, brightness_std=0.0, contrast_std=0.0)
    pipe.geometry = lambda n, size, device: _flips_and_quarters(n)
    x = torch.randn(4, channels, 8, 8)
    y = pipe(x)
    assert torch.allclose(y[0], x[0].flip(-1), atol=1e-5)
    assert torch.allclose(y[1], torch.rot90(x[1], 1, (1, 2)), atol=1e-5) or torch.allclose(
        y[1], torch.rot90(x[1], -1, (1, 2)), atol=1e-5
    )


def _flips_and_quarters(n: int) -> torch.Tensor:
    flip = torch.tensor([[-1.0, 0, 0], [0, 1, 0], [0, 0, 1]])
    quarter = torch.tensor([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]])
    return torch.stack([flip, quarter, torch.eye(3), torch.eye(3)])[:n]


def test_controller_raises_p_when_d_overfits_and_lowers_it_otherwise():
    ada = AdaController(AugmentPipe(0.0), target=0.6, speed_kimg=1.0, interval=4)
    for _ in range(40):  # D is confidently right on every real image: r_t = 1 > 0.6
        ada.observe(1.0, 16)
        ada.step(16)
    high = ada.p
    assert high == pytest.approx(10 * 16 * 4 / 1000) and ada.r_t == 1.0
    for _ in range(20):  # r_t = 0.2 < 0.6: less augmentation
        ada.observe(0.2, 16)
        ada.step(16)
    assert ada.p == pytest.approx(high - 5 * 64 / 1000)
    for _ in range(400):
        ada.observe(-1.0, 16)
        ada.step(16)
    assert ada.p == 0.0


def test_controller_state_round_trips():
    ada = AdaController(AugmentPipe(0.0), speed_kimg=1.0)
    for _ in range(6):
        ada.observe(0.9, 8)
        ada.step(8)
    other = AdaController(AugmentPipe(0.0), speed_kimg=1.0)
    other.load_state_dict(ada.state_dict())
    for ctl in (ada, other):
        ctl.observe(0.9, 8)
        ctl.step(8)
        ctl.observe(0.9, 8)
        ctl.step(8)
    assert other.state_dict() == ada.state_dict() and ada.p > 0
