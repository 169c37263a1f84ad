"""DiffAugment keeps shapes, is differentiable, randomises per sample and respects channel meaning."""

from __future__ import annotations

import pytest
import torch

from medgan.train.diffaugment import DiffAugment, diff_augment, rand_cutout, rand_saturation, rand_translation


@pytest.mark.parametrize("channels", [1, 3, 5])
def test_keeps_shape_and_is_differentiable(channels):
    torch.manual_seed(0)
    x = torch.rand(6, channels, 16, 16, requires_grad=True)
    y = DiffAugment("color,translation,cutout")(x * 2 - 1)
    assert y.shape == x.shape
    y.square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert not torch.allclose(y[0], y[1] - (x[1] - x[0]) * 2)  # different samples, different transforms


def test_translation_moves_content_with_zero_fill():
    torch.manual_seed(0)
    x = torch.ones(32, 1, 8, 8)
    y = rand_translation(x)
    zeros = (y == 0).flatten(1).sum(1)
    assert (zeros % 8 == 0).all() or (zeros > 0).any()
    assert (zeros > 0).any() and (zeros <= 64 - 49).all()  # shift at most 1 px (ratio 1/8 of 8 px)


def test_cutout_zeroes_a_quarter_at_most():
    torch.manual_seed(0)
    y = rand_cutout(torch.ones(16, 3, 16, 16))
    zero_fraction = (y == 0).float().mean(dim=(1, 2, 3))
    assert (zero_fraction > 0).all() and (zero_fraction <= 0.25).all()


def test_saturation_never_mixes_grayscale_or_frame_channels():
    frames = torch.randn(4, 5, 8, 8)
    assert torch.equal(rand_saturation(frames), frames)
    gray = torch.randn(4, 1, 8, 8)
    assert torch.equal(rand_saturation(gray), gray)


def test_unknown_policy_is_rejected():
    with pytest.raises(ValueError, match="unknown DiffAugment policy"):
        diff_augment(torch.zeros(1, 1, 4, 4), "color,blur")
