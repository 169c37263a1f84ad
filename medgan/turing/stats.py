"""Statistics of a visual Turing test.

"Positive" means synthetic: sensitivity is the share of synthetic images a rater called synthetic,
specificity the share of real images called real. Per rater (each image rated once): 95% Wilson score
intervals (Wilson 1927, ``statsmodels.stats.proportion.proportion_confint``) and the exact two-sided binomial
test against chance (``scipy.stats.binomtest``). Pooled over raters, ratings of one image are not independent
(an image that looks fake fools or warns every rater), so the pooled numbers come from a GEE logistic model
with an exchangeable working correlation within image and robust (sandwich) standard errors (Liang K.-Y. &
Zeger S. L., "Longitudinal data analysis using generalized linear models", Biometrika 1986; statsmodels GEE).
Agreement: Fleiss' kappa across raters (Fleiss 1971, ``statsmodels.stats.inter_rater.fleiss_kappa``) and
Cohen's kappa per pair of raters (Cohen 1960, ``sklearn.metrics.cohen_kappa_score``).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

import numpy as np
import statsmodels.api as sm
from scipy.special import expit
from scipy.stats import binomtest, norm
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats import inter_rater
from statsmodels.stats.proportion import proportion_confint


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
    """Wilson score interval for ``k`` successes in ``n`` trials (NaN when ``n`` is 0)."""
    if n == 0:
        return math.nan, math.nan
    low, high = proportion_confint(int(k), int(n), alpha=1 - confidence, method="wilson")
    return float(low), float(high)


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


MIN_CLUSTERS = 10  # robust (sandwich) standard errors need many clusters; fewer images: the fallback below


def _over_clusters(base: dict, k: int, n: int, confidence: float, reason: str) -> dict:
    """Wilson interval and binomial test as if each image were one rating (the most clustering can cost)."""
    share, m = (k / n if n else math.nan), base["n_clusters"]
    hits = round(share * m) if n else 0
    low, high = wilson_interval(hits, m, confidence)
    return {
        **base,
        "value": share,
        "ci_low": low,
        "ci_high": high,
        "p_value": binomial_p_value(hits, m),
        "within_cluster_correlation": math.nan,
        "method": f"Wilson interval and binomial test over the {m} images ({reason})",
    }


def clustered_proportion(success: np.ndarray, clusters: np.ndarray, confidence: float = 0.95) -> dict:
    """The share of successes over ratings that cluster by image, its CI and the test against 50%.

    GEE logistic intercept-only model, exchangeable correlation within cluster, robust standard errors; the
    interval is the Wald interval of the logit mapped back. The model is not used with fewer than
    ``MIN_CLUSTERS`` images, when every rating is a success (or none is), or when its standard error
    degenerates: then the Wilson interval and binomial test over the images themselves are given, as if each
    image were one rating. Returns k, n, n_clusters, value, ci_low, ci_high, p_value,
    within_cluster_correlation, the naive (independent-ratings) Wilson interval, and ``method``.
    """
    y = np.asarray(success, dtype=float)
    groups = np.unique(np.asarray(clusters), return_inverse=True)[1]
    k, n, n_clusters = int(y.sum()), int(y.size), int(groups.max() + 1) if y.size else 0
    naive_low, naive_high = wilson_interval(k, n, confidence)
    base = {"k": k, "n": n, "n_clusters": n_clusters, "naive_ci_low": naive_low, "naive_ci_high": naive_high}
    if n_clusters < MIN_CLUSTERS:
        return _over_clusters(base, k, n, confidence, f"fewer than {MIN_CLUSTERS} images for the GEE model")
    if k in (0, n):
        return _over_clusters(base, k, n, confidence, "GEE undefined: all answers equal")
    model = sm.GEE(
        y,
        np.ones((n, 1)),
        groups=groups,
        family=sm.families.Binomial(),
        cov_struct=sm.cov_struct.Exchangeable(),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on small studies; the result is checked below
        fit = model.fit()
    logit, se = float(fit.params[0]), float(fit.bse[0])
    if not (math.isfinite(logit) and math.isfinite(se) and se > 0):
        return _over_clusters(base, k, n, confidence, "GEE standard error degenerate")
    z = float(norm.ppf(0.5 + confidence / 2))
    return {
        **base,
        "value": float(expit(logit)),
        "ci_low": float(expit(logit - z * se)),
        "ci_high": float(expit(logit + z * se)),
        "p_value": float(2 * norm.sf(abs(logit) / se)),
        "within_cluster_correlation": float(fit.model.cov_struct.dep_params),
        "method": "GEE logistic, exchangeable within image, robust SE",
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
    shares = counts.sum(axis=0) / counts.sum()
    if math.isclose(float((shares * shares).sum()), 1.0):
        return math.nan
    return float(inter_rater.fleiss_kappa(counts, method="fleiss"))


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's kappa of two raters' answers on the same items (NaN when chance agreement is 1 or no items)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError("Cohen's kappa needs two answer lists of the same length")
    categories = np.union1d(a, b)
    if a.size == 0 or math.isclose(float(sum((a == c).mean() * (b == c).mean() for c in categories)), 1.0):
        return math.nan
    return float(cohen_kappa_score(a, b))


def accuracy_by_confidence(confidence: np.ndarray, correct: np.ndarray) -> list[dict]:
    """Accuracy (with Wilson CI) for each confidence level 1-5 that occurs."""
    confidence = np.asarray(confidence, dtype=int)
    correct = np.asarray(correct, dtype=bool)
    rows = []
    for level in range(1, 6):
        chosen = confidence == level
        if chosen.any():
            rows.append(
                {"confidence": level, **proportion(int(correct[chosen].sum()), int(chosen.sum())).as_dict()}
            )
    return rows
