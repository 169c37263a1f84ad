"""Gallery images: real and synthetic per class, nearest training image of each synthetic one, copy flags."""

from __future__ import annotations

import numpy as np
import pytest

from medgan.data.store import load_images
from medgan.turing.gallery import class_gallery


def test_class_gallery_shapes_and_nearest_neighbours(demo_dataset, fake_generator):
    gallery = class_gallery(fake_generator, demo_dataset, "mass", n=4, seed=2)
    train = load_images(demo_dataset, split="train")
    assert gallery.real.shape == gallery.synthetic.shape == gallery.nearest.shape == (4, 1, 64, 64)
    assert fake_generator.calls == [(4, "mass", 2)]
    real_rows = {bytes(im) for im in np.asarray(train.images)[train.labels == "mass"]}
    assert all(bytes(im) in real_rows for im in gallery.real)  # real images are training images of the class
    for syn, near, row, dist in zip(
        gallery.synthetic, gallery.nearest, gallery.nearest_rows, gallery.distances, strict=True
    ):
        np.testing.assert_array_equal(near, np.asarray(train.images)[list(train.indices).index(row)])
        rms = np.sqrt(((syn.astype(float) - near.astype(float)) ** 2).mean())
        assert dist == pytest.approx(rms)
    assert len(gallery.held_out_distances) > 0 and not gallery.copy_flags.any()  # noise is no copy


def test_a_copied_training_image_is_flagged(demo_dataset, fake_generator):
    train = load_images(demo_dataset, split="train")
    copies = np.asarray(train.images[:3]).copy()
    fake_generator.sample = lambda n, *, label=None, seed=0, batch_size=64: copies[:n]
    gallery = class_gallery(fake_generator, demo_dataset, None, n=3, seed=0)
    assert gallery.distances.tolist() == [0.0, 0.0, 0.0]
    assert gallery.nearest_rows.tolist() == train.indices[:3].tolist()
    assert gallery.copy_flags.all()


def test_unknown_class_is_refused(demo_dataset, fake_generator):
    with pytest.raises(ValueError, match="training and held-out .* of class 'cyst': has 0 and 0"):
        class_gallery(fake_generator, demo_dataset, "cyst", n=2, seed=0)
