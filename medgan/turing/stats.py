"""Statistics of a visual Turing test.

"Positive" means synthetic: sensitivity is the share of synthetic images a rater called synthetic,
specificity the share of real images called real. Proportions carry 95% Wilson score intervals
(Wilson 1927); the test against chance is the exact two-sided binomial test (scipy.stats.binomtest).
Agreement: Fleiss' kappa across raters (Fleiss 1971, "Measuring nominal scale agreement among many raters")
and Cohen's kappa per pair of raters (Cohen 1960).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import binomtest, norm


@dataclass(frozen=True)
class Proportion:
    """``k`` of ``n`` with a two-sided confidence interval (NaN when ``n`` is 0)."""

    k: int
    n: int
    value: float
    ci_low: float
    ci_high: float

    def as_dict(self) -> dict:
        """Plain dict for JSON."""
        return asdict(self)


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes in ``n`` trials."""
    if n == 0:
        return math.nan, math.nan
    z = float(norm.ppf(0.5 + confidence / 2))
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def proportion(k: int, n: int, confidence: float = 0.95) -> Proportion:
    """``k / n`` with its Wilson interval."""
    low, high = wilson_interval(k, n, confidence)
    return Proportion(int(k), int(n), k / n if n else math.nan, low, high)


def binomial_p_value(k: int, n: int, p: float = 0.5) -> float:
    """Exact two-sided binomial test of ``k`` of ``n`` against ``p`` (NaN when ``n`` is 0)."""
    return float(binomtest(int(k), int(n), p).pvalue) if n else math.nan


def detection_metrics(truth_synthetic: np.ndarray, answer_synthetic: np.ndarray) -> dict:
    """Accuracy, sensitivity and specificity for spotting synthetic images, with CIs and the binomial p.

    Both arguments are boolean arrays over the same ratings (True = synthetic).
    """
    truth = np.asarray(truth_synthetic, dtype=bool)
    answer = np.asarray(answer_synthetic, dtype=bool)
    correct = truth == answer
    return {
        "n": int(truth.size),
        "accuracy": proportion(int(correct.sum()), int(truth.size)).as_dict(),
        "sensitivity": proportion(int((answer & truth).sum()), int(truth.sum())).as_dict(),
        "specificity": proportion(int((~answer & ~truth).sum()), int((~truth).sum())).as_dict(),
        "binomial_p": binomial_p_value(int(correct.sum()), int(truth.size)),
    }


def fleiss_kappa(table: np.ndarray) -> float:
    """Fleiss' kappa of a subjects x categories table of counts (every subject rated by the same number).

    NaN when there are no subjects or when chance agreement is 1 (every rating in one category).
    """
    counts = np.asarray(table, dtype=float)
    if counts.ndim != 2 or counts.shape[0] == 0:
        return math.nan
    raters = counts.sum(axis=1)
    if not np.allclose(raters, raters[0]) or raters[0] < 2:
        raise ValueError("Fleiss' kappa needs the same number (>= 2) of ratings for every subject")
    m = raters[0]
    per_subject = ((counts * counts).sum(axis=1) - m) / (m * (m - 1))
    p_bar = per_subject.mean()
    shares = counts.sum(axis=0) / counts.sum()
    p_chance = float((shares * shares).sum())
    return math.nan if math.isclose(p_chance, 1.0) else float((p_bar - p_chance) / (1 - p_chance))


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's kappa of two raters' answers on the same items (NaN when chance agreement is 1 or no items)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError("Cohen's kappa needs two answer lists of the same length")
    if a.size == 0:
        return math.nan
    observed = float((a == b).mean())
    categories = np.union1d(a, b)
    chance = float(sum((a == c).mean() * (b == c).mean() for c in categories))
    return math.nan if math.isclose(chance, 1.0) else (observed - chance) / (1 - chance)


def accuracy_by_confidence(confidence: np.ndarray, correct: np.ndarray) -> list[dict]:
    """Accuracy (with Wilson CI) for each confidence level 1-5 that occurs."""
    confidence = np.asarray(confidence, dtype=int)
    correct = np.asarray(correct, dtype=bool)
    rows = []
    for level in range(1, 6):
        chosen = confidence == level
        if chosen.any():
            rows.append({"confidence": level, **proportion(int(correct[chosen].sum()), int(chosen.sum())).as_dict()})
    return rows
