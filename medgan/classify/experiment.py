"""Run a comparison: every arm on the same patient-level folds, pooled out-of-fold test predictions.

For each training-set size (or the full training folds) and each fold, every arm trains a fresh model
from the same initial weights on its own training set and is tested on the same real test images; the
test predictions of all folds are pooled, so every image is tested once per arm and arms can be compared
with paired tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from medgan.classify.analysis import analyse
from medgan.classify.arms import ARMS, CLASSIC, REAL, SYNTHETIC, classic_copies, training_set
from medgan.classify.config import CompareConfig
from medgan.classify.folds import Fold, make_folds, subsample_patients
from medgan.classify.models import check_model_name, create_classifier
from medgan.classify.provenance import provenance
from medgan.classify.synthetic import SyntheticSet, draw_synthetic, rows_seen_by
from medgan.classify.train import TrainSettings, predict_proba, train_classifier
from medgan.data.store import DatasetInfo, ImageSet, get_dataset, load_images

Progress = Callable[[float, str], None]
ALL = "all"
TRAINING_SHARE = 0.95  # of the progress bar; metrics and bootstrap take the rest
THREADS = 1  # small convolutions gain little from more threads, and a comparison shares the CPU with others


@dataclass
class Experiment:
    """The loaded inputs of one comparison."""

    config: CompareConfig
    info: DatasetInfo
    data: ImageSet
    images: np.ndarray
    folds: list[Fold]
    synthetic: SyntheticSet | None
    generators: list = field(default_factory=list)
    n_seen_by_generator: int = 0  # images the generator trained on: they always train, never test


def prepare(config: CompareConfig, generator_loader: Callable[[str], object] | None = None) -> Experiment:
    """Load the dataset at the experiment resolution, make the folds and draw the synthetic images."""
    check_model_name(config.model)
    info = get_dataset(config.dataset)
    if not info.labelled:
        raise ValueError(
            f"dataset {info.name!r} has a single class; a classifier comparison needs two or more"
        )
    data = load_images(info, resolution=config.resolution)
    generators, synthetic = [], None
    if config.uses_synthetic:
        if generator_loader is None:
            from medgan.generate import load_generator as generator_loader
        generators = [generator_loader(run) for run in config.runs]
        synthetic = draw_synthetic(
            generators,
            data.class_names,
            config.synthetic_per_class,
            config.resolution,
            info.channels,
            config.seed,
        )
    unseen = ~rows_seen_by(generators, {info.name, info.id}, data.splits)
    if not unseen.any():
        raise ValueError(
            f"run(s) {', '.join(config.runs)} trained on every image of {info.name}: no test image "
            "would be unseen by the generator; train a run on the dataset's 'train' split"
        )
    folds = make_folds(data.labels, data.patients, config.folds, config.val_fraction, config.seed, unseen)
    return Experiment(
        config, info, data, np.array(data.images), folds, synthetic, generators, int((~unseen).sum())
    )


def _extra_images(exp: Experiment, arm_name: str, train_rows: np.ndarray, seed: list[int]) -> dict:
    """The arm's augmented copies (made from this fold's training rows) and synthetic images."""
    cfg, arm, extra = exp.config, ARMS[arm_name], {}
    if arm.classic:
        extra[CLASSIC] = classic_copies(
            train_rows,
            exp.images,
            exp.data.label_ids,
            cfg.synthetic_per_class,
            int(np.random.default_rng([*seed, 1]).integers(2**31)),
            cfg.augment,
        )
    if arm.synthetic and exp.synthetic is not None:
        syn = exp.synthetic
        extra[SYNTHETIC] = (syn.images, syn.label_ids(exp.data.class_names), np.full(len(syn.images), -1))
    return extra


def _train_one(
    exp: Experiment,
    arm_name: str,
    fold: Fold,
    train_rows: np.ndarray,
    size_index: int,
    on_epoch: Callable[[dict], None],
    cancelled: Callable[[], bool],
) -> dict:
    """Train one arm on one fold; returns its record with the test probabilities."""
    cfg, labels = exp.config, exp.data.label_ids
    seed = [cfg.seed, size_index, fold.index]  # same initial weights and batch order for every arm
    train = training_set(
        ARMS[arm_name], train_rows, exp.images, labels, _extra_images(exp, arm_name, train_rows, seed)
    )
    settings = TrainSettings(
        cfg.epochs,
        cfg.patience,
        cfg.batch_size,
        cfg.learning_rate,
        int(np.random.default_rng(seed).integers(2**31)),
        min_steps=cfg.min_steps_per_epoch,
    )
    started = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(settings.seed)
        model = create_classifier(cfg.model, exp.images.shape[1], len(exp.data.class_names), cfg.weights_path)
        curves = train_classifier(
            model,
            train.images,
            train.labels,
            exp.images[fold.val],
            labels[fold.val],
            settings,
            cancelled,
            on_epoch,
        )
    prob = predict_proba(model, exp.images[fold.test])
    counts = {f"n_train_{kind}": int((train.origin == kind).sum()) for kind in (REAL, CLASSIC, SYNTHETIC)}
    return {
        "arm": arm_name,
        "fold": fold.index,
        **counts,
        "n_val": len(fold.val),
        "n_test": len(fold.test),
        "epochs_run": len(curves),
        "best_epoch": max(c["epoch"] for c in curves if c["improved"]),
        "seconds": round(time.perf_counter() - started, 2),
        "curves": curves,
        "test_rows": fold.test.tolist(),
        "test_prob": prob.round(6).tolist(),
    }


def size_label(size: int) -> str:
    """How a training-set size is named in results: its number, or "all" for the full training folds."""
    return ALL if size == 0 else str(size)


def _plan(exp: Experiment) -> list[tuple[int, str, Fold, np.ndarray]]:
    """(size index, size label, fold, training rows) for every size and fold."""
    cfg, data = exp.config, exp.data
    plan = []
    for size_index, size in enumerate(cfg.sizes or (0,)):
        for fold in exp.folds:
            rows = (
                fold.train
                if size == 0
                else subsample_patients(fold.train, data.labels, data.patients, size, cfg.seed + fold.index)
            )
            plan.append((size_index, size_label(size), fold, rows))
    return plan


def run_comparison(
    config: CompareConfig,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    generator_loader: Callable[[str], object] | None = None,
) -> dict:
    """Run every arm, size and fold of ``config``; returns the JSON-ready result (see :mod:`.report`)."""
    started, threads = time.time(), torch.get_num_threads()
    torch.set_num_threads(THREADS)
    try:
        return _run(config, progress, cancelled, generator_loader, started)
    finally:
        torch.set_num_threads(threads)


def _run(
    config: CompareConfig,
    progress: Progress | None,
    cancelled: Callable[[], bool],
    generator_loader: Callable[[str], object] | None,
    started: float,
) -> dict:
    progress = progress or (lambda fraction, message: None)
    progress(0.0, "loading data and drawing synthetic images")
    exp = prepare(config, generator_loader)
    plan = _plan(exp)
    total = len(plan) * len(config.arms)
    trainings = []
    for step, ((size_index, size, fold, rows), arm) in enumerate((p, a) for p in plan for a in config.arms):
        where = f"size {size} · fold {fold.index + 1}/{config.folds} · {arm}"

        def on_epoch(record: dict, step: int = step, where: str = where) -> None:
            done = (step + record["epoch"] / config.epochs) / total
            progress(TRAINING_SHARE * done, f"{where} · epoch {record['epoch']}")

        progress(TRAINING_SHARE * step / total, where)
        trainings.append({"size": size, **_train_one(exp, arm, fold, rows, size_index, on_epoch, cancelled)})
    progress(TRAINING_SHARE, "computing metrics, bootstrap intervals and paired tests")
    result = {
        "config": config.to_dict(),
        "trainings": trainings,
        **analyse(trainings, exp.data, config),
        **provenance(exp, started),
    }
    progress(1.0, "done")
    return result
