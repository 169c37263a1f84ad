"""Synthetic and augmented images enter training folds only (medgan/classify/arms.py, experiment.py)."""

import numpy as np
import pytest

from medgan.classify import experiment
from medgan.classify.arms import ARMS, classic_copies, training_set
from medgan.classify.config import CompareConfig
from medgan.classify.folds import make_folds
from medgan.data.augment import AugmentConfig
from medgan.data.store import load_images

N_PER_CLASS = 12


def test_classic_copies_come_from_training_rows_only(brain_dataset):
    data = load_images(brain_dataset, resolution=32)
    images, labels = np.asarray(data.images), data.label_ids
    fold = make_folds(data.labels, data.patients, 2, 0.15, seed=0)[0]
    copies, copy_labels, sources = classic_copies(fold.train, images, labels, N_PER_CLASS, 0, AugmentConfig())
    assert set(sources) <= set(fold.train)
    assert np.array_equal(copy_labels, labels[sources])
    assert np.bincount(copy_labels).tolist() == [N_PER_CLASS, N_PER_CLASS]
    assert not any(np.array_equal(c, images[s]) for c, s in zip(copies, sources, strict=True))
    train = training_set(
        ARMS["real+classic"], fold.train, images, labels, {"classic": (copies, copy_labels, sources)}
    )
    assert (train.origin == "real").sum() == len(fold.train) and (
        train.origin == "classic"
    ).sum() == 2 * N_PER_CLASS
    with pytest.raises(ValueError, match="needs synthetic images"):
        training_set(ARMS["real+synthetic"], fold.train, images, labels, {})


def test_synthetic_images_reach_training_only(brain_dataset, phantom_generator, monkeypatch):
    """Synthetic images are all 255: they must show up in the synthetic arms' training sets and nowhere else.

    The generator (notionally) trained on the dataset's 'train' split, so only other rows are tested."""
    data = load_images(brain_dataset, resolution=32)
    real = np.asarray(data.images)
    assert not (real == 255).all(axis=(1, 2, 3)).any()
    seen: dict[str, list] = {"train": [], "val": [], "test": []}

    def fake_train(
        model, train_images, train_labels, val_images, val_labels, settings, should_stop, on_epoch
    ):
        seen["train"].append((np.asarray(train_images), np.asarray(train_labels)))
        seen["val"].append(np.asarray(val_images))
        return [
            {
                "epoch": 1,
                "train_loss": 1.0,
                "train_accuracy": 0.5,
                "val_loss": 1.0,
                "val_accuracy": 0.5,
                "improved": True,
            }
        ]

    def fake_predict(model, images):
        seen["test"].append(np.asarray(images))
        return np.full((len(images), 2), 0.5)

    monkeypatch.setattr(experiment, "train_classifier", fake_train)
    monkeypatch.setattr(experiment, "predict_proba", fake_predict)
    config = CompareConfig(
        dataset=brain_dataset.name,
        runs=("phantom",),
        folds=2,
        epochs=1,
        synthetic_per_class=N_PER_CLASS,
        n_bootstrap=20,
    )
    result = experiment.run_comparison(
        config,
        generator_loader=lambda run: phantom_generator(data.class_names, 255, dataset=brain_dataset.name),
    )
    is_synthetic = [(images == 255).all(axis=(1, 2, 3)) for images, _ in seen["train"]]
    for arm_index, arm in enumerate(config.arms):
        for fold in range(2):
            marks = is_synthetic[fold * len(config.arms) + arm_index]
            labels = seen["train"][fold * len(config.arms) + arm_index][1]
            expected = N_PER_CLASS * 2 if ARMS[arm].synthetic else 0
            assert marks.sum() == expected, arm
            assert np.bincount(labels[marks], minlength=2).tolist() == [expected // 2] * 2
    real_bytes = {image.tobytes() for image in real}
    for part in ("val", "test"):
        for images in seen[part]:
            assert not (images == 255).all(axis=(1, 2, 3)).any(), part
            assert all(image.tobytes() in real_bytes for image in images), part  # real rows, untouched
    tested = np.concatenate(seen["test"][: len(config.arms) * 2 : len(config.arms)])
    unseen = data.splits != "train"
    assert len(tested) == unseen.sum()  # each image the generator never saw is tested once per arm
    rows = np.concatenate([t["test_rows"] for t in result["trainings"] if t["arm"] == "real"])
    assert sorted(rows.tolist()) == np.flatnonzero(unseen).tolist()
    assert result["generators"][0]["split"] == "train"
    assert result["n_seen_by_generator"] == (data.splits == "train").sum()
    assert result["synthetic"][0]["run_id"] == "phantom-run"
