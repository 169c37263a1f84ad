"""square_resize: centre crop, whole-factor shrinking as a k x k block mean, LANCZOS for the rest, bicubic up."""

from __future__ import annotations

import numpy as np
from PIL import Image

from medgan.data.imageops import image_grid, square_resize, to_pil


def test_whole_factor_shrink_is_the_rounded_block_mean():
    image = np.random.default_rng(0).integers(0, 256, (1, 256, 256)).astype(np.uint8)
    blocks = image[0].astype(int).reshape(128, 2, 128, 2).sum(axis=(1, 3))
    assert np.array_equal(square_resize(image, 128)[0], (blocks + 2) // 4)


def test_crop_then_shrink_by_block_mean_and_lanczos(shared_data):
    grey = np.asarray(Image.open(next((shared_data / "brain_mri_128" / "tumor").glob("*.png"))).convert("L"))
    wide = np.concatenate([grey, grey[:, :40]], axis=1)[None]  # 128 x 168: the centre 128 x 128 is kept
    centre = wide[:, :, 20:148]
    out = square_resize(wide, 48)  # 128 -> 64 by 2 x 2 means, then LANCZOS 64 -> 48
    expected = np.asarray(
        Image.fromarray(square_resize(centre, 64)[0]).resize((48, 48), Image.Resampling.LANCZOS)
    )
    assert out.shape == (1, 48, 48) and np.array_equal(out[0], expected)
    lanczos = np.asarray(Image.fromarray(centre[0]).resize((48, 48), Image.Resampling.LANCZOS)).astype(float)
    assert np.abs(out[0] - lanczos).mean() < 4  # grey levels: close to a direct LANCZOS resize


def test_enlarging_is_bicubic_and_same_size_is_a_crop():
    image = np.random.default_rng(1).integers(0, 256, (3, 20, 24)).astype(np.uint8)
    up = square_resize(image, 40)
    expected = np.asarray(Image.fromarray(image[1, :, 2:22]).resize((40, 40), Image.Resampling.BICUBIC))
    assert up.shape == (3, 40, 40) and np.array_equal(up[1], expected)
    assert np.array_equal(square_resize(image, 20), image[:, :, 2:22])


def test_a_stack_shows_its_middle_slice_in_grey_and_rgb_stays_colour():
    slices = np.stack([np.full((6, 6), v, np.uint8) for v in (10, 120, 240)])
    slices[1, 2, 3] = 7  # the middle slice has content of its own
    shown = to_pil(slices, stack=True)
    assert shown.mode == "L" and np.array_equal(np.asarray(shown), slices[1])
    as_colour = to_pil(slices)
    assert as_colour.mode == "RGB" and np.array_equal(np.asarray(as_colour), np.moveaxis(slices, 0, -1))
    grid = np.asarray(image_grid(np.stack([slices, slices]), 2, pad=1, stack=True))
    assert grid.shape == (8, 15) and np.array_equal(grid[1:7, 1:7], slices[1])
    five = np.concatenate([slices, slices[:2]])
    assert np.array_equal(np.asarray(to_pil(five)), five[2])  # any count but 1 and 3 is a stack
