"""Exact and near-duplicate images among a dataset's cached pixels.

- Exact: the SHA-1 of each image's cached bytes (decoded, cropped and resized to the base resolution), so
  copies saved under other names or formats are found.
- Near: the Pearson correlation of two images reduced to 16x16 grey levels by area averaging (each image's
  16x16 vector minus its mean, divided by its norm; the dot product of two vectors is their correlation).
  Pairs at or above :data:`NEAR_THRESHOLD` (0.98) are near copies. Area averaging ignores noise, re-encoding
  and resampling; the correlation ignores brightness and contrast changes; and it needs no trained network
  (the in-domain extractor is trained after the import; no ImageNet weights ship). On the shared data, 0.98
  separates re-saved, shifted or re-annotated copies (BUSI ``benign_001`` / ``benign_318``, r = 0.998;
  brain MRI ``13_no`` / ``no_8``, r = 0.994) from different sequences of one slice (T2 / FLAIR, r = 0.973)
  and neighbouring frames of one lesion (r = 0.96); near pairs are listed for review.

Linked pairs form groups (connected components). Comparisons are all pairs in blocks of
:data:`BLOCK` rows: O(n^2) but one matrix product per block (about 4 s in all for 10,000 images at 128 px
on a shared 2-core CPU: hashing 0.3 s, features 1.2 s, pairs 2.3 s).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

NEAR_SIDE = 16
NEAR_THRESHOLD = 0.98
BLOCK = 512  # rows per block: a 512 x n float32 product (20 MB at n = 10,000)
FEATURE = (
    f"Pearson correlation of {NEAR_SIDE}x{NEAR_SIDE} area-averaged grey images "
    "(exact copies: identical cached pixels, SHA-1)"
)


@dataclass
class DuplicateGroup:
    """Rows (manifest indices) that are copies of each other; ``kind`` is ``exact`` when all are identical."""

    rows: list[int]
    kind: str
    similarity: list[float]  # each row's correlation with the group's first row (1.0 for an exact copy)


def pixel_hashes(images: np.ndarray) -> list[str]:
    """SHA-1 of each image's bytes (``images``: (N, C, R, R) uint8, may be memory-mapped)."""
    return [hashlib.sha1(np.ascontiguousarray(image).tobytes()).hexdigest() for image in images]


def area_sums(images: np.ndarray, side: int = NEAR_SIDE) -> np.ndarray:
    """(N, C, R, R) uint8 -> (N, side*side) float32 sums over channels and ``side`` x ``side`` blocks (area
    averaging up to a constant; PIL's BOX filter per image when ``side`` does not divide R)."""
    n, channels, size = images.shape[0], images.shape[1], images.shape[-1]
    if size % side == 0:
        k = size // side
        blocks = np.asarray(images).reshape(n, channels, side, k, side, k)
        return blocks.sum(axis=(1, 3, 5), dtype=np.uint32).astype(np.float32).reshape(n, -1)
    grey = np.asarray(images, np.float32).mean(axis=1)
    return np.stack(
        [np.asarray(Image.fromarray(g, "F").resize((side, side), Image.Resampling.BOX)) for g in grey]
    ).reshape(n, -1)


def normalised_features(sums: np.ndarray) -> np.ndarray:
    """:func:`area_sums` rows centred and scaled to unit norm, in place; a flat image gets the zero vector
    (correlation 0 with everything; exact copies still match by hash)."""
    sums -= sums.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    flat = norms[:, 0] < 1e-6 * max(float(norms.max(initial=0)), 1.0)
    sums /= np.where(flat[:, None], 1.0, norms)
    sums[flat] = 0
    return sums


def low_res_features(images: np.ndarray, side: int = NEAR_SIDE) -> np.ndarray:
    """(N, side*side) float32: each image's channels and ``side`` x ``side`` areas averaged, centred, unit norm."""
    out = np.empty((len(images), side * side), np.float32)
    for start in range(0, len(images), BLOCK):
        chunk = images[start : start + BLOCK]
        out[start : start + len(chunk)] = area_sums(chunk, side)
    return normalised_features(out)


def near_pairs(features: np.ndarray, threshold: float = NEAR_THRESHOLD) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs ``(i, j)``, ``i < j``, whose correlation is at least ``threshold``."""
    left, right = [], []
    for start in range(0, len(features), BLOCK):
        block = features[start : start + BLOCK] @ features[start:].T
        i, j = np.nonzero(block >= threshold)
        i += start
        j += start
        keep = j > i
        left.append(i[keep])
        right.append(j[keep])
    if not left:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(left), np.concatenate(right)


def components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Connected-component label of each of ``n`` nodes linked by the edges ``left[k] - right[k]``."""
    graph = coo_matrix((np.ones(len(left), np.int8), (left, right)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def exact_sets(hashes: list[str]) -> list[list[int]]:
    """Indices of identical images, one list per set of two or more."""
    sets: dict[str, list[int]] = {}
    for i, h in enumerate(hashes):
        sets.setdefault(h, []).append(i)
    return [rows for rows in sets.values() if len(rows) > 1]


def _similarity(first: int, row: int, hashes: list[str], features: np.ndarray | None) -> float:
    """1.0 for an identical image; else the correlation, at most 0.9999 so a near copy never reads as exact."""
    if hashes[row] == hashes[first] or features is None:
        return 1.0
    return min(round(float(features[row] @ features[first]), 4), 0.9999)


def find_duplicates(
    images: np.ndarray | None,
    threshold: float | None = NEAR_THRESHOLD,
    hashes: list[str] | None = None,
    features: np.ndarray | None = None,
) -> list[DuplicateGroup]:
    """Groups of exact (and, unless ``threshold`` is None, near) copies among ``images``, first row first.

    ``hashes`` and ``features`` (:func:`low_res_features`) computed while the images were decoded spare reading
    them again (``images`` may then be None)."""
    hashes = hashes if hashes is not None else pixel_hashes(images)
    n = len(hashes)
    first: dict[str, int] = {}
    exact = np.array(
        [(first[h], i) for i, h in enumerate(hashes) if first.setdefault(h, i) != i], np.int64
    ).reshape(-1, 2)
    if threshold is None:
        features = None
    elif features is None:
        features = low_res_features(images)
    near = near_pairs(features, threshold) if features is not None else (np.zeros(0, np.int64),) * 2
    labels = components(n, np.concatenate([exact[:, 0], near[0]]), np.concatenate([exact[:, 1], near[1]]))
    sizes = np.bincount(labels)
    groups = []
    for label in np.flatnonzero(sizes > 1):
        rows = [int(r) for r in np.flatnonzero(labels == label)]
        similarity = [_similarity(rows[0], r, hashes, features) for r in rows]
        kind = "exact" if all(hashes[r] == hashes[rows[0]] for r in rows) else "near"
        groups.append(DuplicateGroup(rows, kind, similarity))
    return sorted(groups, key=lambda g: g.rows[0])


def split_units(patients: np.ndarray, groups: list[DuplicateGroup]) -> np.ndarray:
    """The unit of splitting for each row: its patient, merged with every patient it shares a duplicate group
    with (named after the group's alphabetically first patient id), so no copy crosses splits."""
    patients = np.asarray(patients).astype(str)
    _, codes = np.unique(patients, return_inverse=True)
    n = len(patients)
    by_patient = np.full(codes.max() + 1 if n else 0, -1)
    left, right = [], []
    for row, code in enumerate(codes):  # link each row to the first row of its patient
        if by_patient[code] < 0:
            by_patient[code] = row
        else:
            left.append(by_patient[code])
            right.append(row)
    for group in groups:
        left += group.rows[:1] * (len(group.rows) - 1)
        right += group.rows[1:]
    labels = components(n, np.asarray(left, np.int64), np.asarray(right, np.int64))
    names = {}
    for label, patient in zip(labels, patients, strict=True):
        names[label] = min(names.get(label, patient), patient)
    return np.array([names[label] for label in labels], dtype=object)


def copies_to_drop(groups: list[DuplicateGroup], labels: np.ndarray, sources: np.ndarray) -> dict[int, str]:
    """Rows to drop with the reason: all but the first of each group; a group whose copies carry different
    labels is dropped whole, since no copy's label can be trusted."""
    labels, sources = np.asarray(labels).astype(str), np.asarray(sources).astype(str)
    out = {}
    for group in groups:
        classes = sorted(set(labels[group.rows]))
        if len(classes) > 1:
            for row in group.rows:
                out[row] = (
                    f"duplicate group with conflicting labels ({', '.join(classes)}): every copy dropped"
                )
            continue
        for row, r in zip(group.rows[1:], group.similarity[1:], strict=True):
            kind = "exact copy" if r == 1.0 else f"near copy (r = {r:.4f})"
            out[row] = f"{kind} of {sources[group.rows[0]]}: dropped (--drop-duplicates)"
    return out
