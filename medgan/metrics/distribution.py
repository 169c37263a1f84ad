"""Distribution metrics of synthetic features against real training features, each beside a real-vs-real
baseline: the same metric for held-out real images (val + test splits) against the training images.

The baseline is the floor a generator can hope to reach with that many images: FID and KID are biased
upwards at small sample sizes, so synthetic and held-out sets are compared at the same size where possible.
"""

from __future__ import annotations

import numpy as np

from medgan.metrics.registry import metrics

LABELS = {
    "fid": "FID",
    "kid": "KID",
    "precision": "Precision",
    "recall": "Recall",
    "density": "Density",
    "coverage": "Coverage",
}


def distribution_table(
    train: np.ndarray,
    heldout: np.ndarray,
    fake: np.ndarray,
    extractor: str,
    seed: int = 0,
    names: tuple[str, ...] | None = None,
) -> list[dict]:
    """One row per number: synthetic vs train, held-out vs train (baseline), with sizes and extractor name.

    ``train``, ``heldout``, ``fake``: (N, D) features from the same extractor, named by ``extractor``.
    KID rows carry the standard deviation over subsets (``sd``, ``baseline_sd``). ``names``: only these
    registered metrics (e.g. ``("fid", "kid")``; default all).
    """
    rows = []
    for metric in metrics("distribution").values():
        if names is not None and metric.name not in names:
            continue
        synthetic = metric.fn(train, fake, seed=seed)
        baseline = metric.fn(train, heldout, seed=seed)
        for key, label in LABELS.items():
            if key not in synthetic:
                continue
            rows.append(
                {
                    "metric": label,
                    "value": synthetic[key],
                    "baseline": baseline[key],
                    "sd": synthetic.get(f"{key}_std"),
                    "baseline_sd": baseline.get(f"{key}_std"),
                    "higher_is_better": metric.higher_is_better,
                    "extractor": extractor,
                    "n_synthetic": int(len(fake)),
                    "n_heldout": int(len(heldout)),
                    "n_train": int(len(train)),
                    "reference": metric.reference,
                }
            )
    return rows
