"""Images for the gallery: real training images and synthetic ones per class, and for every synthetic image
its nearest real training image (pixel space, RMS grey-level distance) to spot copies.

As a yardstick the same distance is measured for held-out real images (test/val) to the training set: a
synthetic image closer to a training image than any held-out image is to one is flagged as a possible copy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medgan.data.store import DatasetInfo, load_images
from medgan.metrics.nearest import nearest_neighbours
from medgan.turing.study import HELD_OUT_SPLITS, Generator, match_channels


@dataclass
class ClassGallery:
    """One class (``label`` None for an unlabelled run) of the gallery."""

    label: str | None
    real: np.ndarray  # (n, C, R, R) uint8 training images
    synthetic: np.ndarray  # (n, C, R, R) uint8
    nearest: np.ndarray  # (n, C, R, R) the nearest training image of each synthetic image
    nearest_rows: np.ndarray  # (n,) manifest rows of those training images
    distances: np.ndarray  # (n,) RMS grey-level distance (0-255)
    held_out_distances: np.ndarray  # nearest-training distances of held-out real images of this class

    @property
    def copy_flags(self) -> np.ndarray:
        """True where a synthetic image is closer to a training image than every held-out real image is."""
        if not len(self.held_out_distances):
            return np.zeros(len(self.distances), bool)
        return self.distances < self.held_out_distances.min()


def _rows(labels: np.ndarray, label: str | None) -> np.ndarray:
    return np.arange(len(labels)) if label is None else np.flatnonzero(labels == label)


def class_gallery(generator: Generator, dataset: DatasetInfo, label: str | None, n: int, seed: int) -> ClassGallery:
    """``n`` real training and ``n`` synthetic images of ``label`` with nearest training neighbours.

    Raises ValueError when the dataset has no training images (of that class).
    """
    train = load_images(dataset, resolution=generator.resolution, split="train")
    train_images = match_channels(np.asarray(train.images), generator.channels, dataset.name)
    rows = _rows(train.labels, label)
    if not len(rows):
        raise ValueError(f"dataset {dataset.name!r} has no training images" + (f" of class {label!r}" if label else ""))
    rng = np.random.default_rng(seed)
    real = train_images[np.sort(rng.choice(rows, size=min(n, len(rows)), replace=False))]
    synthetic = np.asarray(generator.sample(n, label=label, seed=seed), dtype=np.uint8)
    index, distances = nearest_neighbours(synthetic, train_images, space="pixel")
    held = load_images(dataset, resolution=generator.resolution, split=list(HELD_OUT_SPLITS))
    held_rows = _rows(held.labels, label)[:64]
    held_distances = np.empty(0)
    if len(held_rows):
        held_images = match_channels(np.asarray(held.images[held_rows]), generator.channels, dataset.name)
        held_distances = nearest_neighbours(held_images, train_images, space="pixel")[1]
    return ClassGallery(label, real, synthetic, train_images[index], train.indices[index], distances, held_distances)
