"""Classic augmentation (medgan/data/augment.py): seeded, per-image, shape- and dtype-preserving."""

import numpy as np
import pytest
import torch

from medgan.data.augment import AugmentConfig, augment_batch


@pytest.fixture
def batch(demo_dataset) -> np.ndarray:
    from medgan.data.store import load_images

    return np.array(load_images(demo_dataset, resolution=32).images[:16])


def test_same_seed_same_images_and_global_rng_untouched(batch):
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = augment_batch(batch, seed=7)
    after = torch.rand(1)
    b = augment_batch(batch, seed=7)
    assert a.dtype == torch.uint8 and a.shape == batch.shape
    assert torch.equal(a, b)
    assert torch.equal(before, after)  # the caller's random stream does not move
    assert not torch.equal(a, augment_batch(batch, seed=8))
    assert not torch.equal(a, torch.as_tensor(batch))


def test_each_image_gets_its_own_parameters(batch):
    same = np.repeat(batch[:1], 8, axis=0)
    out = augment_batch(same, seed=0).numpy()
    assert len({o.tobytes() for o in out}) == 8


def test_flip_only_gives_the_image_or_its_mirror(batch):
    config = AugmentConfig(rotation_deg=0, shear_deg=0, crop_scale_min=1.0, brightness=0, contrast=0)
    out = augment_batch(batch, seed=3, config=config).numpy()
    mirrored = batch[..., ::-1]
    flipped = [np.array_equal(o, m) for o, m in zip(out, mirrored, strict=True)]
    kept = [np.array_equal(o, b) for o, b in zip(out, batch, strict=True)]
    assert all(f or k for f, k in zip(flipped, kept, strict=True))
    assert any(flipped) and any(kept)


def test_brightness_changes_mean_grey_level_within_range(batch):
    config = AugmentConfig(
        rotation_deg=0, shear_deg=0, crop_scale_min=1.0, horizontal_flip=False, contrast=0, brightness=0.5
    )
    out = augment_batch(batch, seed=1, config=config).numpy().astype(float)
    ratio = out.mean(axis=(1, 2, 3)) / batch.astype(float).mean(axis=(1, 2, 3))
    assert ratio.min() >= 0.5 - 1e-6 and ratio.max() <= 1.5 + 0.05
    assert ratio.std() > 0.05


def test_rejects_float_or_unbatched_input(batch):
    with pytest.raises(ValueError, match="uint8"):
        augment_batch(batch.astype(np.float32), seed=0)
    with pytest.raises(ValueError, match="uint8"):
        augment_batch(batch[0], seed=0)
