"""Kernel Inception Distance.

Binkowski M. et al., "Demystifying MMD GANs", ICLR 2018 (arXiv:1801.01401): the unbiased squared MMD with
the cubic polynomial kernel k(x, y) = (x.y / D + 1)^3, averaged over random subsets; the spread over
subsets is reported as its standard deviation (stylegan2-ada reports the mean over 100 subsets of 1000).
Each subset's value comes from ``piq.KID``.
"""

from __future__ import annotations

import numpy as np
import piq
import torch

from medgan.metrics.registry import register_metric


@register_metric(
    "kid",
    "distribution",
    higher_is_better=False,
    ideal=0.0,
    unit="squared MMD",
    reference="Binkowski et al. 2018",
)
def kid(
    real: np.ndarray, fake: np.ndarray, seed: int = 0, n_subsets: int = 50, subset_size: int = 1000
) -> dict[str, float]:
    """KID mean and standard deviation over ``n_subsets`` subsets of ``min(subset_size, N_real, N_fake)``."""
    size = min(subset_size, len(real), len(fake))
    if size < 2:
        raise ValueError(f"KID needs at least 2 rows in each set, got {len(real)} real and {len(fake)} fake")
    rng = np.random.default_rng(seed)
    real_t = torch.from_numpy(np.asarray(real, dtype=np.float64))
    fake_t = torch.from_numpy(np.asarray(fake, dtype=np.float64))
    metric = piq.KID()  # one subset per call: we draw the subsets, so results are seeded
    values = []
    for _ in range(n_subsets):
        r = torch.from_numpy(rng.choice(len(real), size, replace=False))
        f = torch.from_numpy(rng.choice(len(fake), size, replace=False))
        values.append(float(metric(real_t[r], fake_t[f])))
    return {
        "kid": float(np.mean(values)),
        "kid_std": float(np.std(values, ddof=1)) if n_subsets > 1 else 0.0,
        "kid_subsets": n_subsets,
        "kid_subset_size": size,
    }
