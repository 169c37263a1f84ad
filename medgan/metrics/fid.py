"""Frechet Inception Distance.

Heusel M. et al., "GANs trained by a two time-scale update rule converge to a local Nash equilibrium",
NeurIPS 2017 (arXiv:1706.08500). FID = |mu_r - mu_f|^2 + Tr(S_r + S_f - 2 (S_r S_f)^(1/2)) between Gaussians
fitted to two feature sets. The trace of the matrix square root is taken as the sum of square roots of the
eigenvalues of the symmetric matrix S_r^(1/2) S_f S_r^(1/2) (same eigenvalues as S_r S_f), in float64: two
``eigh`` calls, stable where ``sqrtm`` of a non-symmetric product can return complex noise, and several
times faster at 2048 dimensions. With fewer images than dimensions (500 Inception features of 2,048) the
trace comes from the singular values of the N_r x N_f product of the centred features instead (exact, no
D x D decomposition; seconds become milliseconds). piq's FID (Newton-Schulz in float32) agrees on small
problems (tested).
"""

from __future__ import annotations

import numpy as np

from medgan.metrics.registry import register_metric


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and unbiased covariance (D, D) of (N, D) features, in float64."""
    feats = np.asarray(features, dtype=np.float64)
    if feats.ndim != 2 or len(feats) < 2:
        raise ValueError(f"FID needs at least 2 feature rows (N, D), got shape {feats.shape}")
    return feats.mean(axis=0), np.cov(feats, rowvar=False)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Frechet distance between N(mu1, sigma1) and N(mu2, sigma2)."""
    w, v = np.linalg.eigh(sigma1)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    middle = root1 @ sigma2 @ root1
    eig = np.linalg.eigvalsh((middle + middle.T) / 2)
    trace_sqrt = np.sqrt(np.clip(eig, 0, None)).sum()
    diff = mu1 - mu2
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt
    return float(max(value, 0.0))


def frechet_distance_low_rank(real: np.ndarray, fake: np.ndarray) -> float:
    """The same FID from the features when a set has fewer rows than dimensions: with centred, scaled feature
    matrices A (real) and B (fake), S_r = A'A and S_f = B'B, and Tr((S_r S_f)^(1/2)) is the sum of the
    singular values of A B' (an N_r x N_f matrix), so no D x D matrix is formed or decomposed."""
    a, b = (np.asarray(x, dtype=np.float64) for x in (real, fake))
    diff = a.mean(axis=0) - b.mean(axis=0)
    a = (a - a.mean(axis=0)) / np.sqrt(len(a) - 1)
    b = (b - b.mean(axis=0)) / np.sqrt(len(b) - 1)
    trace_sqrt = np.linalg.svd(a @ b.T, compute_uv=False).sum()
    return float(max(diff @ diff + (a * a).sum() + (b * b).sum() - 2.0 * trace_sqrt, 0.0))


@register_metric(
    "fid",
    "distribution",
    higher_is_better=False,
    ideal=0.0,
    unit="squared feature units",
    reference="Heusel et al. 2017",
)
def fid(real: np.ndarray, fake: np.ndarray, seed: int = 0) -> dict[str, float]:
    """FID between two (N, D) feature sets (``seed`` unused: FID is deterministic)."""
    real_stats, fake_stats = feature_statistics(real), feature_statistics(fake)  # also checks the shapes
    if min(len(real), len(fake)) < real_stats[1].shape[0]:  # e.g. 500 Inception features of 2,048 dims
        return {"fid": frechet_distance_low_rank(real, fake)}
    return {"fid": frechet_distance(*real_stats, *fake_stats)}
