"""Draw the synthetic training images from one class-conditional run or one run per class."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from medgan.data.imageops import square_resize


class Generator(Protocol):
    """What the comparison needs from :class:`medgan.generate.LoadedGenerator`."""

    run_id: str
    class_names: list[str]
    channels: int
    checkpoint_sha256: str
    dataset: str
    config: dict

    def sample(self, n: int, *, label: str | None = None, seed: int = 0) -> np.ndarray: ...


@dataclass
class SyntheticSet:
    """Synthetic images at the experiment's resolution, their labels and where they came from."""

    images: np.ndarray  # (M, C, R, R) uint8
    labels: np.ndarray  # (M,) str
    sources: list[dict] = field(default_factory=list)  # run_id, checkpoint_sha256, class, n, seed

    def label_ids(self, class_names: list[str]) -> np.ndarray:
        """Labels as integers indexing ``class_names``."""
        lookup = {name: i for i, name in enumerate(class_names)}
        return np.array([lookup[label] for label in self.labels], dtype=np.int64)


def generator_per_class(generators: list[Generator], class_names: list[str]) -> dict[str, Generator]:
    """Which generator makes each dataset class; every class needs exactly one."""
    owner: dict[str, Generator] = {}
    for gen in generators:
        if not gen.class_names:
            raise ValueError(
                f"run {gen.run_id} is unconditional: its images have no class; use a "
                "class-conditional run or one run per class"
            )
        for label in gen.class_names:
            if label in owner:
                raise ValueError(f"class {label!r} is made by two runs ({owner[label].run_id}, {gen.run_id})")
            owner[label] = gen
    missing = [c for c in class_names if c not in owner]
    if missing:
        raise ValueError(f"no run makes the classes {missing} (runs cover {sorted(owner)})")
    return {c: owner[c] for c in class_names}


def draw_synthetic(
    generators: list[Generator],
    class_names: list[str],
    n_per_class: int,
    resolution: int,
    channels: int,
    seed: int,
) -> SyntheticSet:
    """``n_per_class`` images of every class, resized to ``resolution``; seeded by the one scheme of
    :mod:`medgan.sampling` (the same seed gives the same images as generate, export and the studies)."""
    owner = generator_per_class(generators, class_names)
    images, labels, sources = [], [], []
    for label in class_names:
        gen = owner[label]
        if gen.channels != channels:
            raise ValueError(
                f"run {gen.run_id} makes {gen.channels}-channel images, the dataset has {channels}"
            )
        batch = gen.sample(n_per_class, label=label, seed=seed)
        images.append(np.stack([square_resize(image, resolution) for image in batch]))
        labels.append(np.full(n_per_class, label))
        sources.append(
            {
                "run_id": gen.run_id,
                "checkpoint_sha256": gen.checkpoint_sha256,
                "class": label,
                "n": n_per_class,
                "seed": seed,
            }
        )
    return SyntheticSet(np.concatenate(images).astype(np.uint8), np.concatenate(labels), sources)


def rows_seen_by(generators: list[Generator], dataset_keys: set[str], splits: np.ndarray) -> np.ndarray:
    """Mask of dataset rows some generator trained on: rows of its training split (all rows when it had
    none), when it was trained on this dataset (``dataset_keys``: the dataset's name and id)."""
    seen = np.zeros(len(splits), bool)
    for gen in generators:
        if gen.dataset not in dataset_keys:
            continue
        split = gen.config.get("split")
        seen |= np.ones(len(splits), bool) if split is None else np.isin(splits, np.atleast_1d(split))
    return seen
