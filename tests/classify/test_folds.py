"""Patient-level folds (medgan/classify/folds.py) on the demo dataset (two images per patient)."""

import numpy as np

from medgan.classify.folds import make_folds, subsample_patients
from medgan.data.store import load_images


def test_no_patient_in_two_folds_or_two_parts(demo_dataset):
    data = load_images(demo_dataset, resolution=32)
    folds = make_folds(data.labels, data.patients, n_folds=3, val_fraction=0.15, seed=0)
    assert len(folds) == 3
    tested = np.concatenate([f.test for f in folds])
    assert sorted(tested.tolist()) == list(range(len(data)))  # every image tested exactly once
    test_patients = [set(data.patients[f.test]) for f in folds]
    for i in range(3):
        for j in range(i + 1, 3):
            assert not test_patients[i] & test_patients[j]
    for fold in folds:
        parts = [set(data.patients[rows]) for rows in (fold.train, fold.val, fold.test)]
        assert not parts[0] & parts[1] and not parts[0] & parts[2] and not parts[1] & parts[2]
        assert len(fold.train) + len(fold.val) + len(fold.test) == len(data)
        assert 0.10 < len(fold.val) / (len(fold.train) + len(fold.val)) < 0.20
        for rows in (fold.train, fold.val, fold.test):  # label-stratified: about half 'mass' each
            assert 0.4 < np.mean(data.labels[rows] == "mass") < 0.6


def test_folds_are_fixed_by_the_seed(demo_dataset):
    data = load_images(demo_dataset, resolution=32)
    a = make_folds(data.labels, data.patients, 3, 0.15, seed=1)
    b = make_folds(data.labels, data.patients, 3, 0.15, seed=1)
    c = make_folds(data.labels, data.patients, 3, 0.15, seed=2)
    assert all(
        np.array_equal(x.test, y.test) and np.array_equal(x.val, y.val) for x, y in zip(a, b, strict=True)
    )
    assert not all(np.array_equal(x.test, y.test) for x, y in zip(a, c, strict=True))


def test_subsample_takes_whole_patients_and_keeps_class_mix(demo_dataset):
    data = load_images(demo_dataset, resolution=32)
    fold = make_folds(data.labels, data.patients, 3, 0.15, seed=0)[0]
    rows = subsample_patients(fold.train, data.labels, data.patients, 100, seed=0)
    assert set(rows) <= set(fold.train)
    assert 98 <= len(rows) <= 102
    assert abs(np.mean(data.labels[rows] == "mass") - np.mean(data.labels[fold.train] == "mass")) < 0.03
    chosen = set(data.patients[rows])
    whole = fold.train[np.isin(data.patients[fold.train], list(chosen))]
    assert sorted(whole.tolist()) == rows.tolist()  # a patient's images are taken together
    assert len(subsample_patients(fold.train, data.labels, data.patients, 10**6, seed=0)) == len(fold.train)


def test_test_pool_limits_testing_to_unseen_patients(demo_dataset):
    data = load_images(demo_dataset, resolution=32)
    unseen = data.splits != "train"
    unseen[np.flatnonzero(unseen)[0]] = False  # one image of an otherwise unseen patient was seen
    folds = make_folds(data.labels, data.patients, 3, 0.15, seed=0, test_pool=unseen)
    tested = np.concatenate([f.test for f in folds])
    assert set(tested) < set(np.flatnonzero(unseen))
    half_seen = data.patients[np.flatnonzero(data.splits != "train")[0]]
    assert half_seen not in set(data.patients[tested])  # that patient is never tested
    for fold in folds:
        assert set(np.flatnonzero(~unseen)) <= set(fold.train) | set(fold.val)
