"""Core ingestion: phantom demo, raster folders with labels from folders, cache and splits."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from medgan.data.ingest import NothingReadable, ingest
from medgan.data.store import get_dataset, list_datasets, load_images, load_manifest, load_skipped


def test_demo_dataset_is_a_labelled_phantom(demo_dataset):
    assert demo_dataset.classes == {"mass": 500, "normal": 500}
    assert "PHANTOM" in demo_dataset.description
    images = load_images(demo_dataset)
    assert images.images.shape == (1000, 1, 64, 64) and images.images.dtype == np.uint8
    assert 20 < images.images.mean() < 200


def test_demo_split_keeps_patients_together(demo_dataset):
    manifest = load_manifest(demo_dataset)
    per_patient = manifest.groupby("patient_id")["split"].nunique()
    assert (per_patient == 1).all()
    assert set(manifest["split"]) == {"train", "val", "test"}
    fractions = manifest["split"].value_counts(normalize=True)
    assert 0.6 < fractions["train"] < 0.8


def test_derived_resolution_cache(demo_dataset):
    small = load_images(demo_dataset, 32, split="train")
    assert small.images.shape[1:] == (1, 32, 32)
    assert set(small.splits) == {"train"}
    assert (demo_dataset.folder / "cache_32.npy").exists()


def test_bad_files_are_reported_not_fatal(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 255, (40, 50), dtype=np.uint8)).save(tmp_path / "a" / f"{i}.png")
        Image.fromarray((rng.integers(0, 65535, (40, 40))).astype(np.uint16)).save(
            tmp_path / "b" / f"{i}.tif"
        )
    (tmp_path / "a" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (tmp_path / "b" / "notes.txt").write_text("not an image")
    result = ingest(tmp_path, "mixed", resolution=32)
    assert result.dataset.classes == {"a": 3, "b": 3}
    reasons = {s.file: s.reason for s in result.skipped}
    assert set(reasons) == {"a/broken.png", "b/notes.txt"}
    assert "not a recognised image format" in reasons["b/notes.txt"]
    assert len(load_skipped(get_dataset("mixed"))) == 2


def test_nothing_readable_leaves_existing_datasets(tmp_path, demo_dataset):
    (tmp_path / "junk.txt").write_text("x")
    with pytest.raises(NothingReadable, match="no readable images"):
        ingest(tmp_path, "junk")
    assert [d.name for d in list_datasets()] == ["demo-phantom"]


def test_duplicate_name_refused(tmp_path, demo_dataset):
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "x.png")
    with pytest.raises(ValueError, match="already exists"):
        ingest(tmp_path, "demo-phantom")
    assert get_dataset("demo-phantom").n_images == 1000


def test_auto_channels_keep_colour_found_after_grey_files(tmp_path):
    from medgan.data.grouping import load_report

    rng = np.random.default_rng(0)
    grey = [rng.integers(0, 256, (16, 16), dtype=np.uint8) for _ in range(3)]
    colour = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    (tmp_path / "src" / "x").mkdir(parents=True)
    for i, image in enumerate(grey):
        Image.fromarray(image).save(tmp_path / "src" / "x" / f"a{i}.png")  # grey files first in file order
    Image.fromarray(colour).save(tmp_path / "src" / "x" / "b_colour.png")
    Image.fromarray(np.repeat(grey[0][..., None], 3, axis=2)).save(tmp_path / "src" / "x" / "c_rgb_grey.png")
    info = ingest(tmp_path / "src", "mixed", resolution=16, workers=1).dataset
    images = np.asarray(load_images(info).images)
    assert info.channels == 3 and images.shape == (5, 3, 16, 16)
    assert np.array_equal(images[3], np.moveaxis(colour, -1, 0))  # the colour file keeps its colour
    assert all(np.array_equal(images[i], np.repeat(grey[i][None], 3, axis=0)) for i in range(3))
    assert load_report(info)["channels"].startswith("auto: 1 of 5 images in colour, so RGB")
    grey_only = ingest(tmp_path / "src", "grey", resolution=16, channels="gray", workers=1).dataset
    assert grey_only.channels == 1
