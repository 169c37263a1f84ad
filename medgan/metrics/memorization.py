"""Memorization audit: is any synthetic image closer to a training image than real unseen images are?

For every synthetic image, its nearest training image (pixel space and feature space); the same for every
held-out real image (val + test). Held-out images were never trained on, so their nearest-neighbour
distances show how close a new, independent image usually lies to the training set. Synthetic images
closer than a low percentile of those distances (default 1st), or exact copies, are flagged. Following the
nearest-neighbour copy checks of the GAN literature (e.g. Webster R. et al., "Detecting overfitting of deep
generative networks via latent recovery", CVPR 2019, and the "data-copying" test of Meehan C. et al.,
AISTATS 2020, which compares generated-to-train with held-out-to-train distances).
"""

from __future__ import annotations

import numpy as np

from medgan.metrics.nearest import Space, nearest_neighbours


def audit_space(fake: np.ndarray, train: np.ndarray, heldout: np.ndarray, space: Space,
                percentile: float = 1.0) -> dict:
    """Nearest-training distances of synthetic and held-out items in one space, and the flagged pairs.

    Returns fake/held-out distances (and each fake's nearest training index), the threshold (``percentile`` of held-out distances), and ``flagged``:
    ``[{fake_index, train_index, distance}]`` sorted nearest first (``train_index`` indexes ``train``).
    """
    fake_index, fake_dist = nearest_neighbours(fake, train, space=space)
    _, heldout_dist = nearest_neighbours(heldout, train, space=space)
    threshold = float(np.percentile(heldout_dist, percentile))
    flagged = np.flatnonzero((fake_dist < threshold) | (fake_dist == 0))
    flagged = flagged[np.argsort(fake_dist[flagged], kind="stable")]
    return {
        "space": space, "percentile": percentile, "threshold": threshold,
        "unit": "RMS grey levels (0-255)" if space == "pixel" else "feature distance",
        "fake_distances": fake_dist.tolist(), "fake_nearest": fake_index.tolist(),
        "heldout_distances": heldout_dist.tolist(),
        "fake_median": float(np.median(fake_dist)), "heldout_median": float(np.median(heldout_dist)),
        "n_fake": int(len(fake_dist)), "n_heldout": int(len(heldout_dist)), "n_flagged": int(len(flagged)),
        "flagged": [{"fake_index": int(i), "train_index": int(fake_index[i]), "distance": float(fake_dist[i])}
                    for i in flagged],
    }


def audit(fake_images: np.ndarray, train_images: np.ndarray, heldout_images: np.ndarray,
          fake_features: np.ndarray, train_features: np.ndarray, heldout_features: np.ndarray,
          percentile: float = 1.0) -> dict[str, dict]:
    """The audit in pixel space and in feature space."""
    return {
        "pixel": audit_space(fake_images, train_images, heldout_images, "pixel", percentile),
        "feature": audit_space(fake_features, train_features, heldout_features, "feature", percentile),
    }
