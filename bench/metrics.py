"""FID benchmark: MedGAN Studio's FID path against a plain reference loop, measured in the same run.

Run: ``python bench/metrics.py`` (``--n``, ``--features domain|inception``, ``--repeats``, ``--threads``).
- ours: batched feature extraction (``Extractor.__call__``, torch.no_grad, batches of 64 or 32), the real
  set's features read from the hash-keyed cache when warm, FID via two ``eigh`` calls in float64;
- reference: one image at a time through the same network, ``numpy.cov`` and ``scipy.linalg.sqrtm``
  (the pytorch-fid recipe).
Both score the same 2 x N phantom images with the same network, so the FID values must agree. A second
table times the FID formula alone at 2048 dimensions (Inception's size) on synthetic features.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.linalg
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def reference_fid_from_features(a: np.ndarray, b: np.ndarray) -> float:
    """pytorch-fid's formula: numpy mean/cov, scipy sqrtm of the product (real part)."""
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean.real))


def reference_fid(extractor, real: np.ndarray, fake: np.ndarray) -> float:
    """Per-image feature extraction, then the reference formula."""
    with torch.no_grad():
        fa = np.stack([extractor.embed(extractor.preprocess(img[None]))[0].numpy() for img in real])
        fb = np.stack([extractor.embed(extractor.preprocess(img[None]))[0].numpy() for img in fake])
    return reference_fid_from_features(fa.astype(np.float64), fb.astype(np.float64))


def phantom_set(n: int, seed: int) -> np.ndarray:
    """``n`` 64 px phantom images (half with a mass)."""
    from medgan.data.phantom import phantom_image

    rng = np.random.default_rng(seed)
    return np.stack([phantom_image(rng, i % 2 == 0, 64)[None] for i in range(n)])


def timed(fn, repeats: int) -> tuple[float, object]:
    """Median wall time of ``repeats`` calls and the last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=2000, help="images per set (default 2000)")
    parser.add_argument("--features", choices=["domain", "inception"], default="domain")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.environ["MEDGAN_HOME"] = tempfile.mkdtemp(prefix="medgan-bench-")
    from medgan.data.phantom import ensure_demo_dataset
    from medgan.metrics.features import get_extractor
    from medgan.metrics.fid import fid

    info = ensure_demo_dataset()
    start = time.perf_counter()
    extractor = get_extractor(args.features, info, 64)
    setup = time.perf_counter() - start
    real, fake = phantom_set(args.n, 1), phantom_set(args.n, 2)
    print(
        f"device: CPU, torch threads {args.threads}; features: {extractor.name} ({extractor.dim}-d); "
        f"n = {args.n} vs {args.n} images at 64 px; extractor set-up (training or loading) {setup:.1f} s"
    )
    cold, ours = timed(lambda: fid(extractor(real), extractor(fake))["fid"], args.repeats)
    real_feats = extractor(real)  # what the hash-keyed cache holds after the first evaluation
    warm, _ = timed(lambda: fid(real_feats, extractor(fake))["fid"], args.repeats)
    ref_time, ref = timed(lambda: reference_fid(extractor, real, fake), max(1, args.repeats - 2))
    print(f"{'path':<44}{'seconds':>10}{'ratio':>9}   FID")
    print(f"{'reference: per image + numpy cov + sqrtm':<44}{ref_time:>10.2f}{1.0:>9.2f}   {ref:.6g}")
    print(f"{'ours, cold (both sets extracted)':<44}{cold:>10.2f}{ref_time / cold:>9.2f}   {ours:.6g}")
    print(f"{'ours, warm (real features cached)':<44}{warm:>10.2f}{ref_time / warm:>9.2f}")
    print(f"FID difference ours - reference: {ours - ref:.2e} (relative {(ours - ref) / ref:.1e})")
    rng = np.random.default_rng(0)
    a = rng.normal(size=(args.n, 2048)) @ rng.normal(size=(2048, 2048)) / 45
    b = a[::-1] * 1.1 + 0.05
    eigh_time, eigh_value = timed(lambda: fid(a, b)["fid"], args.repeats)
    sqrtm_time, sqrtm_value = timed(lambda: reference_fid_from_features(a, b), 1)
    print(
        f"FID formula alone at 2048-d, {args.n} rows: scipy sqrtm {sqrtm_time:.2f} s, eigh {eigh_time:.2f} s "
        f"(ratio {sqrtm_time / eigh_time:.2f}); values {sqrtm_value:.6g} vs {eigh_value:.6g}"
    )


if __name__ == "__main__":
    main()
