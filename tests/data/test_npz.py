"""MedMNIST .npz reader: the real BreastMNIST file, its splits and class names; generic and odd archives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medgan.data.frames import UnreadableFile
from medgan.data.ingest import ingest
from medgan.data.npz import read_npz
from medgan.data.readers import ReadOptions
from medgan.data.store import load_images, load_manifest


def test_breastmnist_keeps_its_splits_and_class_names(shared_data):
    result = ingest(shared_data / "breastmnist" / "breastmnist.npz", "breastmnist", resolution=32)
    assert result.dataset.classes == {"malignant": 210, "normal or benign": 570}
    manifest = load_manifest(result.dataset)
    assert manifest["split"].value_counts().to_dict() == {"train": 546, "test": 156, "val": 78}
    assert manifest["patient_id"].nunique() == 780 and set(manifest["height"]) == {28}
    with np.load(shared_data / "breastmnist" / "breastmnist.npz") as raw:
        first_test = raw["test_images"][0]
        label = int(raw["test_labels"][0])
    row = manifest[manifest["split"] == "test"].iloc[0]
    assert row["label"] == ["malignant", "normal or benign"][label]
    cached = load_images(result.dataset, 28).images[int(row["index"])][0]
    assert np.abs(cached.astype(int) - first_test.astype(int)).mean() < 3  # same picture after 28->32->28


def test_generic_npz_with_unknown_labels(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "mine.npz"
    np.savez_compressed(
        path,
        images=rng.integers(0, 255, (5, 12, 12, 3), dtype=np.uint8),
        labels=np.array([[0], [2], [2], [1], [0]]),
    )
    frames = list(read_npz(path, ReadOptions()))
    assert [f.label for f in frames] == ["0", "2", "2", "1", "0"]
    assert frames[0].pixels.shape == (3, 12, 12) and frames[0].split is None
    assert len({f.patient_id for f in frames}) == 5


def test_multilabel_and_float_images(tmp_path):
    path = tmp_path / "chestmnist_64.npz"
    images = np.linspace(0, 1, 2 * 8 * 8, dtype=np.float32).reshape(2, 8, 8)
    np.savez(path, train_images=images, train_labels=np.array([[1] + [0] * 12 + [1], [0] * 14]))
    frames = list(read_npz(path, ReadOptions()))
    assert [f.label for f in frames] == ["atelectasis+hernia", "no finding"]
    assert frames[0].pixels.dtype == np.uint8 and frames[1].pixels.max() == 255


@pytest.mark.parametrize(
    ("arrays", "reason"),
    [
        ({"x": np.zeros((2, 4, 4))}, "no images array"),
        ({"images": np.zeros((2, 4, 4, 4, 4))}, "not 2D"),
        ({"images": np.zeros((3, 4, 4)), "labels": np.zeros(2)}, "more images than"),
    ],
)
def test_unusable_archives_say_why(tmp_path, arrays, reason):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(UnreadableFile, match=reason):
        list(read_npz(path, ReadOptions()))


def test_not_a_zip(tmp_path):
    path = Path(tmp_path / "fake.npz")
    path.write_bytes(b"hello")
    with pytest.raises(UnreadableFile, match="not a readable .npz"):
        list(read_npz(path, ReadOptions()))
