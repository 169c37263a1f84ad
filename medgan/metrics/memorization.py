"""Memorization audit: is any synthetic image closer to a training image than real unseen images are?

For every synthetic image, its nearest training image (pixel space and feature space); the same for every
held-out real image (val + test). Held-out images were never trained on, so their nearest-neighbour
distances show how close a new, independent image usually lies to the training set. Synthetic images
closer than a low percentile of those distances (default 1st), or exact copies, are flagged. Held-out
images that are copies of training images (a duplicate group from the import spanning the two sets, or a
distance of 0) are left out of that percentile: one copy would otherwise pull the threshold to 0, and then
only exact copies could be flagged. Following the
nearest-neighbour copy checks of the GAN literature (e.g. Webster R. et al., "Detecting overfitting of deep
generative networks via latent recovery", CVPR 2019, and the "data-copying" test of Meehan C. et al.,
AISTATS 2020, which compares generated-to-train with held-out-to-train distances).
"""

from __future__ import annotations

import numpy as np

from medgan.metrics.nearest import Space, nearest_neighbours


def audit_space(
    fake: np.ndarray,
    train: np.ndarray,
    heldout: np.ndarray,
    space: Space,
    percentile: float = 1.0,
    heldout_copies: np.ndarray | None = None,
) -> dict:
    """Nearest-training distances of synthetic and held-out items in one space, and the flagged pairs.

    ``heldout_copies`` (bool per held-out item): items known to copy a training item, left out of the
    threshold together with those at distance 0. Returns fake/held-out distances (and each fake's nearest
    training index), the threshold (``percentile`` of the remaining held-out distances), ``n_heldout_copies``
    and ``flagged``: ``[{fake_index, train_index, distance}]`` nearest first (``train_index`` indexes ``train``).
    """
    fake_index, fake_dist = nearest_neighbours(fake, train, space=space)
    _, heldout_dist = nearest_neighbours(heldout, train, space=space)
    copies = heldout_dist == 0
    if heldout_copies is not None:
        copies |= np.asarray(heldout_copies, dtype=bool)
    reference = heldout_dist[~copies] if (~copies).any() else heldout_dist
    threshold = float(np.percentile(reference, percentile))
    flagged = np.flatnonzero((fake_dist < threshold) | (fake_dist == 0))
    flagged = flagged[np.argsort(fake_dist[flagged], kind="stable")]
    return {
        "space": space,
        "percentile": percentile,
        "threshold": threshold,
        "unit": "RMS grey levels (0-255)" if space == "pixel" else "feature distance",
        "fake_distances": fake_dist.tolist(),
        "fake_nearest": fake_index.tolist(),
        "heldout_distances": heldout_dist.tolist(),
        "fake_median": float(np.median(fake_dist)),
        "heldout_median": float(np.median(heldout_dist)),
        "n_fake": int(len(fake_dist)),
        "n_heldout": int(len(heldout_dist)),
        "n_flagged": int(len(flagged)),
        "n_heldout_copies": int(copies.sum()),
        "flagged": [
            {"fake_index": int(i), "train_index": int(fake_index[i]), "distance": float(fake_dist[i])}
            for i in flagged
        ],
    }


def audit(
    fake_images: np.ndarray,
    train_images: np.ndarray,
    heldout_images: np.ndarray,
    fake_features: np.ndarray,
    train_features: np.ndarray,
    heldout_features: np.ndarray,
    percentile: float = 1.0,
    heldout_copies: np.ndarray | None = None,
    feature_rows: np.ndarray | None = None,
) -> dict[str, dict]:
    """The audit in pixel space and in feature space (``heldout_copies``: see :func:`audit_space`, per held-out
    image). ``feature_rows``: positions among the held-out images of the ``heldout_features`` rows, when those
    are a subsample (the metrics' seeded real subsample)."""
    feature_copies = heldout_copies
    if heldout_copies is not None and feature_rows is not None:
        feature_copies = np.asarray(heldout_copies, dtype=bool)[np.asarray(feature_rows)]
    return {
        "pixel": audit_space(fake_images, train_images, heldout_images, "pixel", percentile, heldout_copies),
        "feature": audit_space(
            fake_features, train_features, heldout_features, "feature", percentile, feature_copies
        ),
    }
