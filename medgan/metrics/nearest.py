"""Nearest neighbours between image sets, in pixel space or in a feature space.

Pixel distance is the root-mean-square difference in grey levels (0-255) over all pixels and channels, so
it reads the same at any resolution; feature distance is the Euclidean distance between feature vectors.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from medgan.data.imageops import square_resize

Space = Literal["pixel", "feature"]
_CHUNK = 512


def match_resolution(images: np.ndarray, size: int) -> np.ndarray:
    """(N, C, H, W) uint8 resized to ``size`` x ``size`` (returned unchanged when it already is)."""
    if images.shape[-1] == size and images.shape[-2] == size:
        return images
    return np.stack([square_resize(np.asarray(img), size) for img in images])


def _as_vectors(query: np.ndarray, reference: np.ndarray, space: Space) -> tuple[np.ndarray, np.ndarray]:
    """Both sets as float64 (N, D) rows; images are brought to the query's resolution first."""
    if space == "pixel":
        if query.ndim != 4 or reference.ndim != 4:
            raise ValueError(
                f"pixel space needs (N, C, H, W) images, got {query.shape} and {reference.shape}"
            )
        if query.shape[1] != reference.shape[1]:
            raise ValueError(f"channel counts differ: query {query.shape[1]}, reference {reference.shape[1]}")
        reference = match_resolution(reference, query.shape[-1])
    elif space != "feature":
        raise ValueError(f"unknown space {space!r}: use 'pixel' or 'feature'")
    q = np.asarray(query, dtype=np.float64).reshape(len(query), -1)
    r = np.asarray(reference, dtype=np.float64).reshape(len(reference), -1)
    if q.shape[1] != r.shape[1]:
        raise ValueError(f"dimensions differ: query {q.shape[1]}, reference {r.shape[1]}")
    return q, r


def k_nearest(
    query: np.ndarray, reference: np.ndarray, k: int = 1, space: Space = "feature"
) -> tuple[np.ndarray, np.ndarray]:
    """Indices and distances (N, k) of the ``k`` nearest reference rows for every query row, nearest first.

    Distances of the chosen pairs are recomputed directly (not from the ``|a|^2 + |b|^2 - 2ab`` expansion),
    so an exact copy has distance 0.
    """
    q, r = _as_vectors(query, reference, space)
    if len(r) < k:
        raise ValueError(f"need at least {k} reference rows, got {len(r)}")
    r_sq = np.einsum("ij,ij->i", r, r)
    indices = np.empty((len(q), k), dtype=np.int64)
    for start in range(0, len(q), _CHUNK):
        block = q[start : start + _CHUNK]
        d2 = r_sq[None, :] - 2.0 * block @ r.T  # |q|^2 is constant per row: not needed to rank
        part = np.argpartition(d2, k - 1, axis=1)[:, :k]
        order = np.take_along_axis(d2, part, axis=1).argsort(axis=1)
        indices[start : start + len(block)] = np.take_along_axis(part, order, axis=1)
    distances = _pair_distances(q, r, indices)
    if space == "pixel":
        distances = distances / np.sqrt(q.shape[1])
    return indices, distances


def _pair_distances(q: np.ndarray, r: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Euclidean distance between each query row and its listed reference rows, one column at a time."""
    return np.stack([np.sqrt(((q - r[indices[:, j]]) ** 2).sum(-1)) for j in range(indices.shape[1])], axis=1)


def nearest_neighbours(
    query: np.ndarray, reference: np.ndarray, space: Space = "pixel"
) -> tuple[np.ndarray, np.ndarray]:
    """For every query item, the index of its nearest reference item and the distance to it, both (N,).

    ``space='pixel'``: uint8 (N, C, H, W) images (the reference is resized to the query's resolution when
    they differ); distance is RMS grey-level difference (0-255). ``space='feature'``: (N, D) feature arrays;
    distance is Euclidean.
    """
    indices, distances = k_nearest(query, reference, k=1, space=space)
    return indices[:, 0], distances[:, 0]
