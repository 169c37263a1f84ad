"""Nearest neighbours in pixel and feature space."""

import numpy as np
import pytest

from medgan.metrics.nearest import k_nearest, nearest_neighbours


def test_pixel_nearest_finds_planted_copy_with_zero_distance():
    rng = np.random.default_rng(0)
    reference = rng.integers(0, 256, (50, 1, 16, 16), dtype=np.uint8)
    query = rng.integers(0, 256, (5, 1, 16, 16), dtype=np.uint8)
    query[2] = reference[37]
    idx, dist = nearest_neighbours(query, reference)
    assert idx[2] == 37 and dist[2] == 0.0
    assert (np.delete(dist, 2) > 50).all()  # random images differ by ~100 grey levels RMS


def test_pixel_distance_is_rms_grey_levels_and_matches_brute_force():
    rng = np.random.default_rng(1)
    reference = rng.integers(0, 256, (30, 3, 8, 8), dtype=np.uint8)
    query = rng.integers(0, 256, (7, 3, 8, 8), dtype=np.uint8)
    diff = query[:, None].astype(float) - reference[None].astype(float)
    brute = np.sqrt((diff**2).mean(axis=(2, 3, 4)))
    idx, dist = nearest_neighbours(query, reference)
    np.testing.assert_array_equal(idx, brute.argmin(1))
    np.testing.assert_allclose(dist, brute.min(1))
    constant = nearest_neighbours(np.full((1, 1, 4, 4), 10, np.uint8), np.full((1, 1, 4, 4), 13, np.uint8))
    assert constant[1][0] == pytest.approx(3.0)


def test_feature_k_nearest_sorted_and_resizing_reference():
    rng = np.random.default_rng(2)
    feats = rng.normal(size=(40, 6))
    idx, dist = k_nearest(feats[:4], feats, k=3)
    assert (idx[:, 0] == np.arange(4)).all() and (dist[:, 0] == 0).all()
    assert (np.diff(dist, axis=1) >= 0).all()
    small = rng.integers(0, 256, (3, 1, 8, 8), dtype=np.uint8)
    big = np.repeat(np.repeat(small, 2, axis=2), 2, axis=3)
    assert nearest_neighbours(small, big)[0].tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="channel"):
        nearest_neighbours(small, np.zeros((2, 3, 8, 8), np.uint8))
