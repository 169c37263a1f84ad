"""DiffAugment keeps shapes, is differentiable, randomises per sample and respects channel meaning."""

from __future__ import annotations

import pytest
import torch

from medgan.train.diffaugment import (
    DiffAugment,
    diff_augment,
    rand_brightness,
    rand_contrast,
    rand_cutout,
    rand_saturation,
    rand_translation,
)

torch.set_num_threads(1)  # 2 threads on a shared 2-core machine are ~30x slower (spin-waits)


@pytest.mark.parametrize("channels", [1, 3, 5])
def test_keeps_shape_and_is_differentiable(channels):
    torch.manual_seed(0)
    x = torch.rand(1, channels, 16, 16).repeat(6, 1, 1, 1).requires_grad_(True)
    y = DiffAugment("color,translation,cutout")(x * 2 - 1)
    assert y.shape == x.shape
    y.square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert not torch.allclose(y[0], y[1])  # the same image, transformed differently per sample


def test_translation_shifts_by_at_most_an_eighth_with_zero_fill():
    torch.manual_seed(0)
    y = rand_translation(torch.ones(64, 1, 8, 8))
    zeros = set((y == 0).flatten(1).sum(1).tolist())
    # shifts of -1, 0 or 1 px in y and x leave 0, 8 (one axis) or 15 (both) zero pixels
    assert zeros <= {0, 8, 15} and len(zeros) > 1


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


def test_a_three_frame_stack_is_never_saturated():
    """A 2.5D stack of 3 slices gets brightness, contrast, translation and cutout, but not RGB saturation."""
    frames = torch.stack([torch.full((8, 8), v) for v in (-0.8, 0.0, 0.6)]).repeat(6, 1, 1, 1)
    torch.manual_seed(3)
    stacked = DiffAugment("color,translation,cutout", stack=True)(frames)
    torch.manual_seed(3)
    expected = frames
    for fn in (rand_brightness, rand_contrast, rand_translation, rand_cutout):
        expected = fn(expected)
    assert torch.equal(stacked, expected)
    assert not torch.equal(rand_saturation(frames), frames)  # as RGB the three slices would be mixed
