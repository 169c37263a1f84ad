"""One way to split n images over classes, and one seed scheme for sampling a generator.

Every place that samples a generator (generate, export, the metrics report, embeddings, Turing studies, the
gallery, the classifier comparison) goes through these, so the same seed gives the same images everywhere:
image ``i`` of class ``c`` under seed ``s`` comes from the latent vector at row ``i % CHUNK`` of the chunk
``i // CHUNK`` drawn with ``torch.Generator().manual_seed(chunk_seed(s, c, i // CHUNK))``, where ``c`` is
the class's position in the generator's class list (0 for an unconditional generator). The generator runs on
whole chunks (a batch's float rounding then never depends on how many images were asked for), so the first
``k`` images of a class are the same bytes whether 10 or 10,000 are asked for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

CHUNK = 64  # latent vectors per seeded chunk


def split_counts(
    n: int, classes: Sequence[str], weights: Mapping[str, float] | None = None
) -> dict[str, int]:
    """``n`` images over ``classes``: in proportion to ``weights`` (e.g. training-split class counts), or
    evenly without them; largest remainders (ties to the earlier class) make the counts sum to ``n``."""
    if n < 0:
        raise ValueError(f"the number of images must be >= 0, got {n}")
    if not classes:
        raise ValueError("split_counts needs at least one class")
    share = (
        np.ones(len(classes)) if weights is None else np.array([float(weights.get(c, 0)) for c in classes])
    )
    if (share < 0).any() or share.sum() <= 0:
        raise ValueError(f"class weights must be >= 0 with a positive sum, got {dict(weights or {})}")
    exact = n * share / share.sum()
    counts = np.floor(exact).astype(int)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return {c: int(k) for c, k in zip(classes, counts, strict=True)}


def chunk_seed(seed: int, class_index: int, chunk: int) -> int:
    """The torch seed of one chunk of latent vectors (independent streams per seed, class and chunk)."""
    return int(np.random.SeedSequence([seed, class_index, chunk]).generate_state(1, dtype=np.uint32)[0])


def latent_chunk(z_dim: int, seed: int, class_index: int, chunk: int) -> torch.Tensor:
    """The ``(CHUNK, z_dim)`` latent vectors of images ``chunk * CHUNK ..`` of one class's stream."""
    return torch.randn(
        CHUNK, z_dim, generator=torch.Generator().manual_seed(chunk_seed(seed, class_index, chunk))
    )


def chunk_spans(start: int, count: int) -> list[tuple[int, int, int]]:
    """``(chunk, first, stop)`` rows of each chunk that holds images ``start .. start + count - 1``."""
    if count <= 0:
        return []
    return [
        (chunk, max(start - chunk * CHUNK, 0), min(start + count - chunk * CHUNK, CHUNK))
        for chunk in range(start // CHUNK, (start + count - 1) // CHUNK + 1)
    ]


def sample_counts(generator: Any, counts: Mapping[str, int], seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """``counts[c]`` images of every class ``c`` (in that order) with their class names, by the one scheme.

    An unconditional generator takes ``{"": n}`` (its images are labelled ``""``).
    """
    parts, labels = [], []
    for name, count in counts.items():
        if count:
            parts.append(np.asarray(generator.sample(count, label=name or None, seed=seed), dtype=np.uint8))
            labels += [name] * count
    if not parts:
        shape = (0, generator.channels, generator.resolution, generator.resolution)
        return np.zeros(shape, np.uint8), []
    return np.concatenate(parts), labels


def sample_mix(
    generator: Any, n: int, seed: int = 0, weights: Mapping[str, float] | None = None
) -> tuple[np.ndarray, list[str]]:
    """``n`` images over the generator's classes (evenly, or in proportion to ``weights``) with their names."""
    classes = list(generator.class_names)
    counts = split_counts(n, classes, weights) if classes else {"": n}
    return sample_counts(generator, counts, seed)
