"""Precision, recall, density and coverage from k-nearest-neighbour balls in feature space.

Precision and recall: Kynkaanniemi T. et al., "Improved precision and recall metric for assessing
generative models", NeurIPS 2019 (arXiv:1904.06991). Density and coverage: Naeem M. F. et al., "Reliable
fidelity and diversity metrics for generative models", ICML 2020 (arXiv:2002.09797), whose reference code
(clovaai/generative-evaluation-prdc) this follows. Precision agrees with ``piq.PR`` (tested); recall is
computed here because piq 0.8 compares against the real radii in its tie test for recall.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist

from medgan.metrics.nearest import k_nearest
from medgan.metrics.registry import register_metric


def knn_radii(features: np.ndarray, k: int) -> np.ndarray:
    """Distance from every row to its k-th nearest other row."""
    if len(features) <= k:
        raise ValueError(f"k-NN with k={k} needs more than {k} rows, got {len(features)}")
    return k_nearest(features, features, k=k + 1, space="feature")[1][:, -1]


@register_metric(
    "prdc",
    "distribution",
    higher_is_better=True,
    ideal=1.0,
    unit="fraction",
    reference="Kynkaanniemi et al. 2019; Naeem et al. 2020",
)
def prdc(real: np.ndarray, fake: np.ndarray, seed: int = 0, k: int = 5) -> dict[str, float]:
    """Precision, recall, density and coverage with k-NN balls (``seed`` unused: deterministic)."""
    real = np.asarray(real, dtype=np.float64)
    fake = np.asarray(fake, dtype=np.float64)
    real_radii = knn_radii(real, k)
    fake_radii = knn_radii(fake, k)
    dist = cdist(real, fake)  # (N_real, N_fake)
    inside_real = dist <= real_radii[:, None]
    return {
        "precision": float(inside_real.any(axis=0).mean()),
        "recall": float((dist <= fake_radii[None, :]).any(axis=1).mean()),
        "density": float(inside_real.sum(axis=0).mean() / k),
        "coverage": float((dist.min(axis=1) <= real_radii).mean()),
        "k": k,
    }
