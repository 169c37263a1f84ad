"""One evaluation of a generator: quality table, distribution metrics beside their real-vs-real baseline,
memorization audit; written atomically to ``runs.results_folder(run_id) / "evaluation.json"``.

Flagged (and the closest) memorization pairs are stored as images in ``memorization_pairs.npz`` beside it,
and every evaluation adds a point to ``fid_history.json`` (FID at that checkpoint's step).
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from medgan import runs
from medgan.data.grouping import rows_with_copy_in
from medgan.data.patients import split_warning
from medgan.data.phantom import dataset_or_demo
from medgan.data.store import ImageSet, dataset_of, load_images
from medgan.metrics.class_agreement import class_agreement_table
from medgan.metrics.distribution import distribution_table
from medgan.metrics.features import get_extractor, real_features, subsample_rows
from medgan.metrics.memorization import audit
from medgan.metrics.quality import quality_table
from medgan.sampling import sample_mix
from medgan.workspace import atomic_write_bytes, atomic_write_json

EVALUATION_FILE = "evaluation.json"
PAIRS_FILE = "memorization_pairs.npz"
HISTORY_FILE = "fid_history.json"
HELDOUT_SPLITS = ["val", "test"]
REAL_SUBSAMPLE = 2000  # real images per side (train, held-out) for the feature metrics
REAL_SEED = 0  # the real subsample's seed: fixed, so its cached features serve every evaluation
MIN_PER_CLASS = 10  # per-class FID/KID only where every side has this many images
_CLOSEST_SHOWN = 8  # closest pairs kept for display even when none is flagged
Progress = Callable[[float, str], None]


def class_weights(generator: Any, train_labels: np.ndarray) -> dict[str, int] | None:
    """Training-split image count of each of the generator's classes (None for an unconditional one)."""
    if not generator.class_names:
        return None
    weights = {c: int((np.asarray(train_labels) == c).sum()) for c in generator.class_names}
    if not sum(weights.values()):
        raise ValueError(f"none of the generator's classes {generator.class_names} is in the training split")
    return weights


def per_class_table(
    train: np.ndarray,
    heldout: np.ndarray,
    fake: np.ndarray,
    labels: dict[str, np.ndarray],
    extractor: str,
    seed: int = 0,
) -> list[dict]:
    """FID and KID of each class (its synthetic images vs its training images, beside its held-out baseline);
    ``labels`` holds the class of every row of ``train``, ``heldout`` and ``fake``. Classes with fewer than
    ``MIN_PER_CLASS`` images on a side get one row with the reason instead."""
    rows = []
    for name in dict.fromkeys(labels["fake"]):
        masks = {side: labels[side] == name for side in ("train", "heldout", "fake")}
        sizes = {side: int(mask.sum()) for side, mask in masks.items()}
        if min(sizes.values()) < MIN_PER_CLASS:
            rows.append(
                {
                    "class": name,
                    "metric": None,
                    "skipped": f"fewer than {MIN_PER_CLASS} images on a side",
                    **{f"n_{side}": k for side, k in sizes.items()},
                }
            )
            continue
        table = distribution_table(
            train[masks["train"]],
            heldout[masks["heldout"]],
            fake[masks["fake"]],
            extractor,
            seed=seed,
            names=("fid", "kid"),
        )
        rows += [{"class": name, **row} for row in table]
    return rows


def _real_side(train: ImageSet, heldout: ImageSet, real_n: int) -> dict[str, np.ndarray]:
    """Positions (into the split arrays) of the seeded real subsamples used for the feature metrics."""
    return {
        "train": subsample_rows(len(train), real_n, REAL_SEED),
        "heldout": subsample_rows(len(heldout), real_n, REAL_SEED),
    }


def _to_train_positions(result: dict, rows: np.ndarray) -> None:
    """Re-index a feature-space audit done against the train subsample to positions in the train split."""
    result["fake_nearest"] = [int(rows[i]) for i in result["fake_nearest"]]
    for pair in result["flagged"]:
        pair["train_index"] = int(rows[pair["train_index"]])


def evaluate_generator(
    generator: Any,
    n: int | None = None,
    features: str = "domain",
    seed: int = 0,
    progress: Progress | None = None,
    real_n: int = REAL_SUBSAMPLE,
) -> tuple[dict, dict]:
    """Evaluate a loaded generator against its dataset; returns (results, pair images for display).

    ``n`` synthetic images (default: as many as held-out real images in the subsample, so the baseline compares
    like with like), drawn in the training split's class proportions; ``features``: ``domain``, ``inception``
    or ``inception:PATH``; the real side of the feature metrics is a seeded subsample of at most ``real_n``
    images per side (seed ``REAL_SEED``), its features cached.
    """
    say = progress or (lambda fraction, message: None)
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    dataset_or_demo(generator.dataset)  # the phantom demo is made on first use
    info = dataset_of(generator.config)  # the version it was trained on
    train = load_images(info, resolution=generator.resolution, split="train")
    heldout = load_images(info, resolution=generator.resolution, split=HELDOUT_SPLITS)
    if len(train) < 6 or len(heldout) < 6:
        raise ValueError(
            f"{info.folder}: dataset {info.name!r} needs at least 6 train and 6 held-out (val+test) "
            f"images for the metrics; it has {len(train)} and {len(heldout)}"
        )
    extractor = get_extractor(features, info, generator.resolution)  # first: a bad spec fails before any work
    weights, real_rows = class_weights(generator, train.labels), _real_side(train, heldout, real_n)
    n = int(n or len(real_rows["heldout"]))
    say(0.05, f"Sampling {n} synthetic images")
    fake, fake_labels = sample_mix(generator, n, seed, weights)
    train_images, heldout_images = np.asarray(train.images), np.asarray(heldout.images)
    timings["sample"] = time.perf_counter() - clock
    say(0.15, "Quality metrics against the nearest training images")
    quality = quality_table(fake, train_images, stack=info.stack)
    timings["quality"] = time.perf_counter() - clock - sum(timings.values())
    say(0.3, f"Features ({extractor.name})")
    train_feats = real_features(extractor, info, generator.resolution, "train", real_n, REAL_SEED)
    heldout_feats = real_features(extractor, info, generator.resolution, HELDOUT_SPLITS, real_n, REAL_SEED)
    fake_feats = extractor(fake)
    timings["features"] = time.perf_counter() - clock - sum(timings.values())
    say(0.7, "Distribution metrics and the real-vs-real baseline")
    distribution = distribution_table(train_feats, heldout_feats, fake_feats, extractor.name, seed=seed)
    labels = {
        "train": train.labels[real_rows["train"]],
        "heldout": heldout.labels[real_rows["heldout"]],
        "fake": np.asarray(fake_labels),
    }
    per_class = (
        per_class_table(train_feats, heldout_feats, fake_feats, labels, extractor.name, seed)
        if weights
        else []
    )
    agreement = (
        class_agreement_table(
            info,
            generator.resolution,
            fake,
            labels["fake"],
            heldout_images[real_rows["heldout"]],
            labels["heldout"],
        )
        if weights
        else []
    )
    say(0.85, "Memorization audit")
    copies = rows_with_copy_in(info, heldout.indices, train.indices)  # held-out copies of training images
    memo = audit(
        fake,
        train_images,
        heldout_images,
        fake_feats,
        train_feats,
        heldout_feats,
        heldout_copies=copies,
        feature_rows=real_rows["heldout"],
    )
    _to_train_positions(memo["feature"], real_rows["train"])
    timings["distribution_and_audit"] = time.perf_counter() - clock - sum(timings.values())
    for space in memo.values():  # train indices -> manifest rows, so pairs can be traced to files
        for pair in space["flagged"]:
            pair["train_row"] = int(train.indices[pair["train_index"]])
    results = {
        "run_id": generator.run_id,
        "step": int(generator.step),
        "checkpoint_sha256": generator.checkpoint_sha256,
        "dataset": info.name,
        "resolution": int(generator.resolution),
        "seed": seed,
        "n_synthetic": n,
        "n_train": len(real_rows["train"]),
        "n_heldout": len(real_rows["heldout"]),
        "features": features,
        "extractor": extractor.name,
        "split_warning": split_warning(info),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "sampling": _sampling_note(weights, fake_labels, train, heldout, real_rows, real_n),
        "quality": {"reference": "nearest training image in pixel space", **quality},
        "distribution": distribution,
        "per_class": per_class,
        "class_agreement": agreement,
        "memorization": memo,
        "timings_s": timings,
    }
    return results, _pair_images(memo, fake, train_images)


def _sampling_note(
    weights: dict[str, int] | None,
    fake_labels: list[str],
    train: ImageSet,
    heldout: ImageSet,
    real_rows: dict[str, np.ndarray],
    real_n: int,
) -> dict:
    """How the synthetic and real images of the evaluation were chosen, with a sentence saying so."""
    counts = {c: fake_labels.count(c) for c in dict.fromkeys(fake_labels)}
    rule = "in the training split's class proportions" if weights else "unconditional generator (no classes)"
    real = (
        f"seeded subsample (seed {REAL_SEED}) of at most {real_n:,} real images per side: "
        f"{len(real_rows['train']):,} of {len(train):,} train, {len(real_rows['heldout']):,} of "
        f"{len(heldout):,} held-out (feature metrics and feature-space audit); pixel-space audit and quality "
        f"against all {len(train):,} train images"
    )
    split = ", ".join(f"{c} {k}" for c, k in counts.items() if c)
    return {
        "synthetic_counts": counts,
        "train_class_counts": weights,
        "rule": rule,
        "real_subsample": real_n,
        "real_seed": REAL_SEED,
        "n_train_total": len(train),
        "n_heldout_total": len(heldout),
        "text": f"Synthetic images {rule}" + (f" ({split})" if split else "") + f"; real side: {real}.",
    }


def _pair_images(memo: dict, fake: np.ndarray, train: np.ndarray) -> dict[str, np.ndarray]:
    """Synthetic/training image pairs per space: the flagged ones, else the closest few (for display)."""
    out: dict[str, np.ndarray] = {}
    for space, result in memo.items():
        distances = np.asarray(result["fake_distances"])
        flagged = [p["fake_index"] for p in result["flagged"]][:32]
        shown = np.array(flagged or np.argsort(distances, kind="stable")[:_CLOSEST_SHOWN], dtype=np.int64)
        out[f"{space}_fake"] = fake[shown]
        out[f"{space}_train"] = train[np.asarray(result["fake_nearest"])[shown]]
        out[f"{space}_distance"] = distances[shown]
        out[f"{space}_flagged"] = np.isin(shown, flagged)
    return out


def evaluate(
    run_id: str,
    n: int | None = None,
    features: str = "domain",
    seed: int = 0,
    progress: Progress | None = None,
    real_n: int = REAL_SUBSAMPLE,
) -> dict:
    """Evaluate run ``run_id`` (or ``demo``); writes evaluation.json, the pairs and a FID history point."""
    from medgan.generate import load_generator

    results, pairs = evaluate_generator(
        load_generator(run_id), n=n, features=features, seed=seed, progress=progress, real_n=real_n
    )
    folder = runs.results_folder(run_id)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **pairs)
    atomic_write_bytes(folder / PAIRS_FILE, buffer.getvalue())
    atomic_write_json(folder / EVALUATION_FILE, results)
    _add_history_point(folder, results)
    if progress:
        progress(1.0, "Done")
    return results


def _add_history_point(folder: Path, results: dict) -> None:
    """Append (step, FID, baseline) for this checkpoint and extractor; a re-evaluation replaces its point."""
    fid_row = next(r for r in results["distribution"] if r["metric"] == "FID")
    point = {
        "step": results["step"],
        "fid": fid_row["value"],
        "baseline": fid_row["baseline"],
        "extractor": results["extractor"],
        "n": results["n_synthetic"],
        "checkpoint_sha256": results["checkpoint_sha256"],
        "created": results["created"],
    }
    same = ("checkpoint_sha256", "extractor", "n")
    history = [p for p in fid_history(folder) if any(p[k] != point[k] for k in same)]
    atomic_write_json(
        folder / HISTORY_FILE, sorted([*history, point], key=lambda p: (p["extractor"], p["step"]))
    )


def fid_history(folder: Path) -> list[dict]:
    """The FID points recorded in a results folder ([] when none)."""
    path = Path(folder) / HISTORY_FILE
    return json.loads(path.read_text()) if path.is_file() else []


def latest_metrics(run_id: str) -> dict | None:
    """The run's last evaluation (the contents of evaluation.json), or None when it was never evaluated."""
    path = runs.results_folder(run_id) / EVALUATION_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise ValueError(f"{path}: unreadable evaluation file ({exc})") from exc


def load_pairs(run_id: str) -> dict[str, np.ndarray] | None:
    """The memorization pair images of the last evaluation (None when absent)."""
    path = runs.results_folder(run_id) / PAIRS_FILE
    if not path.is_file():
        return None
    with np.load(path) as data:
        return {key: data[key] for key in data.files}
