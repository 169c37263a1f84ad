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


def test_dataset_duplicate_groups_unblind_the_audit(tmp_path):
    """A MedMNIST-style file whose own test split holds copies of training images: the import's duplicate
    groups mark them, and the audit then flags a synthetic near copy."""
    from medgan.data.grouping import rows_with_copy_in
    from medgan.data.ingest import ingest
    from medgan.data.store import load_images

    train, fresh = _scenes(80, 0)[:, 0], _scenes(60, 1)[:, 0]
    test = np.concatenate([fresh, train[:4]])  # 4 of 64 test images copy training images
    arrays = {"train_images": train, "test_images": test, "val_images": fresh[:2]}
    arrays |= {f"{k[:-7]}_labels": np.zeros((len(v), 1), int) for k, v in arrays.items()}
    np.savez(tmp_path / "set.npz", **arrays)
    info = ingest(tmp_path / "set.npz", "copied", resolution=32, workers=1).dataset
    train_set, heldout = load_images(info, split="train"), load_images(info, split="test")
    copies = rows_with_copy_in(info, heldout.indices, train_set.indices)
    assert copies.sum() == 4
    rng = np.random.default_rng(4)
    fake = np.concatenate(
        [_scenes(10, 5), np.clip(train[20:21, None] + rng.normal(0, 6, (1, 1, 32, 32)), 0, 255)]
    )
    fake = fake.astype(np.uint8)
    images, held = np.asarray(train_set.images), np.asarray(heldout.images)
    assert audit_space(fake, images, held, "pixel", heldout_copies=copies)["flagged"][0]["fake_index"] == 10
    blind_threshold = float(np.percentile(audit_space(fake, images, held, "pixel")["heldout_distances"], 1))
    assert blind_threshold == 0  # what the threshold was before: one copy in a hundred held-out images
