"""Class agreement: does a synthetic image drawn for class ``c`` look like ``c`` to a classifier of the real images?

FID and KID pool the classes (or score each class's feature distribution), so a conditional generator that
draws a ``malignant`` image without a lesion scores almost as well as one that draws it right. Here the
class head of the in-domain CNN (:mod:`medgan.metrics.domain`, trained on the training split) labels every
synthetic image; each class's row gives the share assigned to the class it was drawn for, with a Wilson 95 %
interval, beside the same share for that class's held-out real images (the classifier's own accuracy: what a
perfect generator would score). This is "GAN-test" of Shmelkov et al. 2018 ("How good is my GAN?", ECCV),
per class and with the real baseline beside it. What synthetic images add to a classifier trained on real ones
is measured on the Classifier page.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from medgan.data.store import DatasetInfo
from medgan.metrics.domain import load_or_train, predict_ids
from medgan.turing.stats import proportion

TRUSTED_BASELINE = 0.8  # below this share of its own held-out images right, a class's agreement says little


def _row(name: str, predicted: np.ndarray) -> dict:
    """Share of ``predicted`` equal to ``name`` with its interval and the most common other class (share
    None when ``predicted`` is empty)."""
    if not len(predicted):
        return {"share": None, "low": None, "high": None, "n": 0, "confused_with": ""}
    share = proportion(int((predicted == name).sum()), len(predicted))
    others = Counter(p for p in predicted if p != name).most_common(1)
    return {
        "share": share.value,
        "low": share.ci_low,
        "high": share.ci_high,
        "n": share.n,
        "confused_with": str(others[0][0]) if others else "",
    }


def class_agreement_table(
    info: DatasetInfo,
    resolution: int,
    fake: np.ndarray,
    fake_labels: np.ndarray,
    heldout: np.ndarray,
    heldout_labels: np.ndarray,
) -> list[dict]:
    """One row per class of the synthetic images: the share the in-domain classifier assigns to the class
    they were drawn for (``agreement``, interval, n) and its held-out real baseline. Empty when the dataset
    has fewer than two classes."""
    fake_labels, heldout_labels = np.asarray(fake_labels), np.asarray(heldout_labels)
    if len(set(heldout_labels) | set(fake_labels)) < 2:
        return []
    net, meta = load_or_train(info, resolution)
    names = np.asarray(meta["class_names"], dtype=object)
    fake_pred, real_pred = names[predict_ids(net, fake)], names[predict_ids(net, heldout)]
    rows = []
    for name in dict.fromkeys(fake_labels):
        synthetic = _row(name, fake_pred[fake_labels == name])
        real = _row(name, real_pred[heldout_labels == name])
        rows.append(
            {
                "class": str(name),
                "agreement": synthetic["share"],
                "agreement_low": synthetic["low"],
                "agreement_high": synthetic["high"],
                "n_synthetic": synthetic["n"],
                "confused_with": synthetic["confused_with"],
                "baseline": real["share"],
                "baseline_low": real["low"],
                "baseline_high": real["high"],
                "n_heldout": real["n"],
                "classifier": f"in-domain CNN ({info.name}, {resolution} px)",
                "reference": "Shmelkov et al. 2018 (GAN-test)",
            }
        )
    return rows


def format_share(share: float | None, low: float | None, high: float | None) -> str:
    """``"81.0 % (75.1-85.8)"``, or ``"-"`` for no images."""
    return "-" if share is None else f"{100 * share:.1f} % ({100 * low:.1f}-{100 * high:.1f})"


def agreement_frame(rows: list[dict]) -> pd.DataFrame:
    """The table as shown: class, synthetic agreement and its real baseline (95 % intervals), sizes."""
    return pd.DataFrame(
        {
            "class": [r["class"] for r in rows],
            "synthetic": [
                format_share(r["agreement"], r["agreement_low"], r["agreement_high"]) for r in rows
            ],
            "n_synthetic": [r["n_synthetic"] for r in rows],
            "otherwise seen as": [r["confused_with"] or "-" for r in rows],
            "held-out real (baseline)": [
                format_share(r["baseline"], r["baseline_low"], r["baseline_high"]) for r in rows
            ],
            "n_heldout": [r["n_heldout"] for r in rows],
        }
    )


def weak_classifier_note(rows: list[dict]) -> str | None:
    """A caution naming the classes whose held-out real images the classifier gets right less than
    :data:`TRUSTED_BASELINE` of the time (there agreement measures the classifier more than the generator);
    None when every class is above it. On BUSI at 64 px the in-domain CNN scores 37-66 % per class."""
    weak = [r for r in rows if r["baseline"] is not None and r["baseline"] < TRUSTED_BASELINE]
    if not weak:
        return None
    listed = ", ".join(f"{r['class']} {100 * r['baseline']:.0f} %" for r in weak)
    return (
        f"The classifier recognises only part of the held-out real images ({listed}), so for "
        f"{'this class' if len(weak) == 1 else 'these classes'} agreement says more about the classifier "
        "than about the generator; synthetic images can even score above real ones."
    )
