"""FID, KID, precision/recall/density/coverage: hand-checkable cases and agreement with piq / scipy."""

import numpy as np
import piq
import pytest
import scipy.linalg
import torch

from medgan.metrics.distribution import distribution_table
from medgan.metrics.fid import fid
from medgan.metrics.kid import kid
from medgan.metrics.prdc import prdc


def plain_fid(a: np.ndarray, b: np.ndarray) -> float:
    """Textbook FID: numpy mean/cov and scipy sqrtm (as in pytorch-fid)."""
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


def test_identical_sets_give_zero_fid_and_same_distribution_zero_kid():
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(200, 16))
    assert fid(feats, feats)["fid"] == pytest.approx(0.0, abs=1e-8)
    # KID is an unbiased estimate: for two samples of one distribution it scatters around 0.
    same = kid(feats, rng.normal(size=(200, 16)), n_subsets=10, subset_size=100)
    assert abs(same["kid"]) < 3 * same["kid_std"] / np.sqrt(10) + 1e-3
    scores = prdc(feats, feats)
    assert scores["precision"] == scores["recall"] == scores["coverage"] == 1.0


def test_fid_matches_scipy_and_piq_and_grows_with_shift():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(300, 8))
    b = rng.normal(size=(300, 8)) @ rng.normal(size=(8, 8)) * 0.5 + 0.3
    ours = fid(a, b)["fid"]
    assert ours == pytest.approx(plain_fid(a, b), rel=1e-6)
    assert ours == pytest.approx(float(piq.FID()(torch.from_numpy(a), torch.from_numpy(b))), rel=1e-3)
    # A mean shift of d in every one of D dimensions adds exactly D * d^2.
    shifted = fid(a, a + 2.0)["fid"]
    assert shifted == pytest.approx(8 * 4.0, rel=1e-9)


def test_kid_mean_sd_and_prdc_against_piq():
    rng = np.random.default_rng(2)
    real = rng.normal(size=(150, 10))
    near = rng.normal(size=(150, 10))
    far = rng.normal(size=(150, 10)) + 3.0
    close, distant = (
        kid(real, near, n_subsets=10, subset_size=100),
        kid(real, far, n_subsets=10, subset_size=100),
    )
    assert distant["kid"] > 10 * abs(close["kid"]) and distant["kid_std"] > 0
    ours = prdc(real, far)
    precision, _ = piq.PR(nearest_k=5)(torch.from_numpy(real), torch.from_numpy(far))
    assert ours["precision"] == pytest.approx(float(precision))
    assert ours["precision"] < 0.2 and ours["coverage"] < 0.2 and prdc(real, near)["coverage"] > 0.8


def test_distribution_table_puts_baseline_and_extractor_beside_each_number():
    rng = np.random.default_rng(3)
    train, heldout, fake = rng.normal(size=(120, 6)), rng.normal(size=(60, 6)), rng.normal(size=(60, 6)) + 1
    rows = distribution_table(train, heldout, fake, extractor="test-features")
    assert [r["metric"] for r in rows] == ["FID", "KID", "Precision", "Recall", "Density", "Coverage"]
    fid_row = rows[0]
    assert fid_row["value"] > 3 * fid_row["baseline"]
    assert all(
        r["extractor"] == "test-features" and r["n_synthetic"] == 60 and r["n_train"] == 120 for r in rows
    )
    assert rows[1]["sd"] is not None and rows[1]["baseline_sd"] is not None


def test_fid_with_fewer_images_than_dimensions_matches_the_textbook_formula():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(40, 64))
    b = rng.normal(size=(30, 64)) @ rng.normal(size=(64, 64)) * 0.3 + 0.5
    assert fid(a, b)["fid"] == pytest.approx(plain_fid(a, b), rel=1e-6)  # the N x N singular-value path
    assert fid(a, a)["fid"] == pytest.approx(0.0, abs=1e-8)
