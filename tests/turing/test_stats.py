"""Statistics of a Turing study against hand-computed values, a published table and statsmodels/sklearn."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa
from statsmodels.stats.proportion import proportion_confint

from medgan.turing import stats

# Fleiss (1971), Table 1: 30 patients, 6 psychiatrists, 5 diagnoses (counts per patient and diagnosis).
# Published kappa 0.430 (statsmodels and R irr::kappam.fleiss give 0.4302445).
FLEISS_1971 = [
    [0, 0, 0, 6, 0],
    [0, 3, 0, 0, 3],
    [0, 1, 4, 0, 1],
    [0, 0, 0, 0, 6],
    [0, 3, 0, 3, 0],
    [2, 0, 4, 0, 0],
    [0, 0, 4, 0, 2],
    [2, 0, 3, 1, 0],
    [2, 0, 0, 4, 0],
    [0, 0, 0, 0, 6],
    [1, 0, 0, 5, 0],
    [1, 1, 0, 4, 0],
    [0, 3, 3, 0, 0],
    [1, 0, 0, 5, 0],
    [0, 2, 0, 3, 1],
    [0, 0, 5, 0, 1],
    [3, 0, 0, 1, 2],
    [5, 1, 0, 0, 0],
    [0, 2, 0, 4, 0],
    [1, 0, 2, 0, 3],
    [0, 0, 0, 0, 6],
    [0, 1, 0, 5, 0],
    [0, 2, 0, 1, 3],
    [2, 0, 0, 4, 0],
    [1, 0, 0, 4, 1],
    [0, 5, 0, 1, 0],
    [4, 0, 0, 0, 2],
    [0, 2, 0, 4, 0],
    [1, 0, 5, 0, 0],
    [0, 0, 0, 0, 6],
]


def test_fleiss_kappa_on_the_published_1971_table():
    assert stats.fleiss_kappa(np.array(FLEISS_1971)) == pytest.approx(0.4302445, abs=1e-7)


def test_fleiss_kappa_hand_computed_two_categories():
    # 3 images, 2 raters: agree, agree, disagree. P_i = 1, 1, 0 -> P_bar = 2/3.
    # Category shares: real 3/6, synthetic 3/6 -> P_e = 0.5 -> kappa = (2/3 - 1/2) / (1/2) = 1/3.
    table = [[2, 0], [0, 2], [1, 1]]
    assert stats.fleiss_kappa(table) == pytest.approx(1 / 3)


def test_fleiss_kappa_matches_statsmodels_on_random_tables():
    rng = np.random.default_rng(0)
    for raters in (2, 3, 7):
        answers = rng.integers(0, 2, size=(40, raters))
        table = np.stack([(answers == c).sum(axis=1) for c in (0, 1)], axis=1)
        assert stats.fleiss_kappa(table) == pytest.approx(sm_fleiss_kappa(table), abs=1e-12)


def test_fleiss_kappa_refuses_unequal_rating_counts_and_is_nan_without_variation():
    with pytest.raises(ValueError, match="same number"):
        stats.fleiss_kappa([[2, 0], [1, 0]])
    assert math.isnan(stats.fleiss_kappa([[3, 0], [3, 0]]))


def test_cohen_kappa_hand_computed_and_against_sklearn():
    a = ["synthetic", "synthetic", "real", "real"]
    b = ["synthetic", "real", "real", "real"]
    # p_o = 3/4; p_e = (2/4)(1/4) + (2/4)(3/4) = 1/2 -> kappa = (3/4 - 1/2) / (1/2) = 0.5
    assert stats.cohen_kappa(a, b) == pytest.approx(0.5)
    rng = np.random.default_rng(1)
    for _ in range(5):
        x = rng.choice(["real", "synthetic"], 30)
        y = np.where(rng.random(30) < 0.7, x, rng.choice(["real", "synthetic"], 30))
        assert stats.cohen_kappa(x, y) == pytest.approx(cohen_kappa_score(x, y), abs=1e-12)


def test_wilson_interval_hand_value_and_statsmodels():
    low, high = stats.wilson_interval(8, 10)  # by hand: centre 0.7167, half-width 0.2266
    assert (low, high) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    for k, n in [(0, 10), (10, 10), (3, 17), (50, 100)]:
        assert stats.wilson_interval(k, n) == pytest.approx(
            proportion_confint(k, n, method="wilson"), abs=1e-12
        )
    assert all(math.isnan(v) for v in stats.wilson_interval(0, 0))


def test_binomial_p_value_hand_computed():
    # 9 of 10 correct against 50%: P(X >= 9) = 11/1024, two-sided = 22/1024.
    assert stats.binomial_p_value(9, 10) == pytest.approx(22 / 1024)
    assert stats.binomial_p_value(5, 10) == pytest.approx(1.0)


def test_detection_metrics_hand_computed():
    truth = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], bool)  # 4 synthetic, 6 real
    answer = np.array([1, 1, 1, 0, 0, 0, 0, 0, 1, 1], bool)
    m = stats.detection_metrics(truth, answer)
    assert (m["accuracy"]["k"], m["accuracy"]["n"]) == (7, 10)
    assert m["sensitivity"]["value"] == pytest.approx(3 / 4)
    assert m["specificity"]["value"] == pytest.approx(4 / 6)
    assert m["binomial_p"] == pytest.approx(stats.binomial_p_value(7, 10))
    assert m["accuracy"]["ci_low"] < 0.7 < m["accuracy"]["ci_high"]


def test_accuracy_by_confidence_groups_levels():
    rows = stats.accuracy_by_confidence([1, 1, 5, 5, 5, 3], [True, False, True, True, False, True])
    assert [(r["confidence"], r["k"], r["n"]) for r in rows] == [(1, 1, 2), (3, 1, 1), (5, 2, 3)]


def _simulated_study(rng, n_images=40, n_raters=5, logit=0.4, sd=1.5):
    """Every rater rates every image; image i is spotted with probability expit(logit + u_i), u_i ~ N(0, sd)."""
    easiness = rng.normal(0.0, sd, n_images)
    correct = rng.random((n_raters, n_images)) < 1 / (1 + np.exp(-(logit + easiness)))
    return correct.ravel(), np.tile(np.arange(n_images), n_raters)


def _true_accuracy(logit=0.4, sd=1.5) -> float:
    """The population-averaged accuracy E[expit(logit + u)], u ~ N(0, sd), by Gauss-Hermite quadrature."""
    x, w = np.polynomial.hermite_e.hermegauss(80)
    return float((w / (1 + np.exp(-(logit + sd * x)))).sum() / w.sum())


def test_clustered_proportion_is_the_statsmodels_gee_fit():
    import statsmodels.api as sm

    correct, images = _simulated_study(np.random.default_rng(3))
    result = stats.clustered_proportion(correct, images)
    fit = sm.GEE(
        correct.astype(float),
        np.ones((len(correct), 1)),
        groups=images,
        family=sm.families.Binomial(),
        cov_struct=sm.cov_struct.Exchangeable(),
    ).fit()
    low, high = fit.conf_int()[0]
    assert (result["ci_low"], result["ci_high"]) == pytest.approx(
        (1 / (1 + np.exp(-low)), 1 / (1 + np.exp(-high)))
    )
    assert result["p_value"] == pytest.approx(fit.pvalues[0])
    assert result["n"] == 200 and result["n_clusters"] == 40 and result["within_cluster_correlation"] > 0.1
    assert result["ci_high"] - result["ci_low"] > 1.5 * (result["naive_ci_high"] - result["naive_ci_low"])


def test_clustered_interval_covers_the_truth_where_the_naive_one_does_not():
    rng, truth = np.random.default_rng(0), _true_accuracy()
    covered = naive_covered = 0
    for _ in range(200):  # 200 simulated studies of 40 images x 5 raters with image-level random effects
        r = stats.clustered_proportion(*_simulated_study(rng))
        covered += r["ci_low"] <= truth <= r["ci_high"]
        naive_covered += r["naive_ci_low"] <= truth <= r["naive_ci_high"]
    assert covered / 200 >= 0.91  # nominal 95%
    assert naive_covered / 200 <= 0.88 and covered - naive_covered >= 15  # the naive interval is too narrow


def test_clustered_proportion_without_variation_or_with_few_images_falls_back_to_the_images():
    result = stats.clustered_proportion(np.ones(36, bool), np.repeat(np.arange(12), 3))
    assert result["value"] == 1.0 and result["n_clusters"] == 12 and "all answers equal" in result["method"]
    assert (result["ci_low"], result["ci_high"]) == pytest.approx(proportion_confint(12, 12, method="wilson"))
    assert result["p_value"] == pytest.approx(stats.binomial_p_value(12, 12))
    few = stats.clustered_proportion(np.array([1, 0, 0, 1, 1, 1, 1, 0], bool), np.repeat(np.arange(4), 2))
    assert "fewer than 10 images" in few["method"] and few["value"] == 5 / 8
    # 2.5 -> 2
    assert (few["ci_low"], few["ci_high"]) == pytest.approx(proportion_confint(2, 4, method="wilson"))
