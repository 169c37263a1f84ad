"""Memorization audit: held-out copies of training images do not blind the threshold; a near copy is flagged."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

from medgan.metrics.memorization import audit_space


def _scenes(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    smooth = [gaussian_filter(rng.normal(size=(32, 32)), 2) for _ in range(n)]
    return np.stack([np.clip(s / s.std() * 40 + 128, 0, 255).astype(np.uint8)[None] for s in smooth])


def test_planted_near_copy_is_flagged_despite_heldout_copies():
    train, fresh = _scenes(80, 0), _scenes(60, 1)
    rng = np.random.default_rng(2)
    near = lambda image, sd: np.clip(image + rng.normal(0, sd, image.shape), 0, 255).astype(np.uint8)  # noqa: E731
    heldout = np.concatenate(
        [fresh, train[:3], near(train[3:5], 2)]
    )  # 3 exact, 2 near copies of training images
    fake = np.concatenate([_scenes(20, 3), near(train[10:11], 6)])  # one planted near copy: fake 20
    copies = np.zeros(len(heldout), bool)
    copies[60:] = True  # what the import's duplicate groups say
    blind = audit_space(fake, train, heldout, "pixel")
    assert blind["threshold"] < 3 and 20 not in [p["fake_index"] for p in blind["flagged"]]
    fixed = audit_space(fake, train, heldout, "pixel", heldout_copies=copies)
    assert fixed["n_heldout_copies"] == 5 and fixed["threshold"] > 20
    assert [p["fake_index"] for p in fixed["flagged"]] == [20] and fixed["flagged"][0]["train_index"] == 10
    exact_only = audit_space(fake, train, heldout, "pixel", heldout_copies=None)
    assert exact_only["n_heldout_copies"] == 3  # distance-0 copies are left out even without the groups
