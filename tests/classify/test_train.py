"""Classifier training (medgan/classify/train.py): epochs of whole permutations, early stopping, best weights."""

import numpy as np
import torch

from medgan.classify.models import create_classifier
from medgan.classify.train import TrainSettings, epoch_order, predict_proba, train_classifier


def test_small_sets_are_cycled_to_the_minimum_number_of_batches():
    settings = TrainSettings(epochs=1, patience=1, batch_size=8, learning_rate=1e-3, seed=0, min_steps=5)
    order = epoch_order(12, settings, epoch=1)
    assert len(order) == 48 and np.bincount(order).tolist() == [4] * 12  # whole permutations, >= 5 x 8
    assert sorted(epoch_order(100, settings, epoch=1)) == list(range(100))
    assert not np.array_equal(epoch_order(100, settings, 1), epoch_order(100, settings, 2))


def test_early_stopping_keeps_the_best_validation_epoch(demo_dataset):
    from medgan.data.store import load_images

    data = load_images(demo_dataset, resolution=32)
    images, labels = np.array(data.images), data.label_ids
    torch.manual_seed(0)
    model = create_classifier("small-cnn", 1, 2)
    settings = TrainSettings(
        epochs=30, patience=2, batch_size=16, learning_rate=3e-3, seed=0, min_steps=4, min_delta=0.05
    )
    curves = train_classifier(model, images[:64], labels[:64], images[900:], labels[900:], settings)
    assert len(curves) < 30 and not any(c["improved"] for c in curves[-2:])  # stopped after 2 flat epochs
    best = min(c["val_loss"] for c in curves if c["improved"])
    prob = predict_proba(model, images[900:])
    kept_loss = -np.log(np.clip(prob[np.arange(100), labels[900:]], 1e-12, 1)).mean()
    assert abs(kept_loss - best) < 1e-6  # the returned model is the kept epoch
