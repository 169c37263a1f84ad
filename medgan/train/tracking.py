"""FID/KID tracked while training, the way StyleGAN2-ADA tracks its metrics (``metric_main`` at every tick).

Every ``config.track_every`` steps the worker draws ``config.track_n`` images from fixed noise (seeded by the
run, the same images every time; class labels in the proportions of the real reference, by
``medgan.sampling.split_counts``), embeds them with the run's extractor (``domain``: the in-domain CNN of
:mod:`medgan.metrics.domain`, or ``inception``) and scores them against the cached features of the held-out real images (val + test; the
part's class only for per-class models). Beside each value it writes the real-vs-real floor: the same
metric for as many *training* images (real, disjoint from the reference) against the same reference, so the
floor has the generator's sample sizes. The row goes to metrics.jsonl; a new lowest FID tells the trainer to
keep the checkpoint as ``checkpoints/best.pt``. Random states of the training are untouched (forked), so a
run trains the same with tracking on or off.

Runs shorter than ``track_every`` steps are not tracked (their ``best`` is their ``latest``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from medgan.data.store import get_dataset, load_images
from medgan.metrics.features import Extractor, get_extractor, real_features
from medgan.metrics.fid import fid
from medgan.metrics.kid import kid
from medgan.sampling import split_counts
from medgan.train.batches import to_uint8
from medgan.train.config import TrainConfig

HELDOUT = ["val", "test"]
MIN_REFERENCE = 10  # fewer held-out images than this: the reference is half of the training images
NOISE_SEED_OFFSET = 104729
KID_SUBSETS = 20


@dataclass
class Reference:
    """Features of the real reference images and of the (disjoint) real images that give the floor."""

    reference: np.ndarray
    floor_set: np.ndarray
    reference_labels: np.ndarray  # class ids (into config.class_names) of the reference images
    floor: dict[str, float]


def _features(
    extractor: Extractor, config: TrainConfig, split: str | list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Cached features of one split, restricted to the part's class; with class ids in config order."""
    info = get_dataset(config.dataset)
    feats = real_features(extractor, info, config.resolution, split)
    labels = load_images(info, resolution=config.resolution, split=split).labels
    rows = np.ones(len(labels), dtype=bool) if config.only_class is None else labels == config.only_class
    lookup = {name: i for i, name in enumerate(config.class_names)}
    return feats[rows], np.array([lookup.get(lab, 0) for lab in labels[rows]], dtype=np.int64)


def score(
    reference: np.ndarray, fake: np.ndarray, seed: int = 0, n_subsets: int = KID_SUBSETS
) -> dict[str, float]:
    """FID and KID (mean, sd over ``n_subsets`` subsets) of ``fake`` against ``reference`` features."""
    k = kid(reference, fake, seed=seed, n_subsets=n_subsets)
    return {"fid": fid(reference, fake)["fid"], "kid": k["kid"], "kid_std": k["kid_std"]}


def build_reference(extractor: Extractor, config: TrainConfig, n: int) -> Reference:
    """Held-out reference features and the floor (``n`` training images against the same reference)."""
    train, train_labels = _features(extractor, config, "train")
    heldout, labels = _features(extractor, config, HELDOUT)
    rng = np.random.default_rng(config.seed)
    if len(heldout) < MIN_REFERENCE:  # no usable held-out split: two disjoint halves of the training images
        order = rng.permutation(len(train))
        half = len(train) // 2
        heldout, labels, train = train[order[half:]], train_labels[order[half:]], train[order[:half]]
    if len(train) < 2 or len(heldout) < 2:
        raise ValueError(f"dataset {config.dataset!r}: too few real images to track FID")
    floor_set = train[rng.choice(len(train), min(n, len(train)), replace=False)]
    return Reference(heldout, floor_set, labels, score(heldout, floor_set, seed=config.seed))


class MetricTracker:
    """Scores a generator on fixed noise every ``track_every`` steps; remembers the best (lowest) FID."""

    def __init__(self, config: TrainConfig, device: torch.device) -> None:
        self.config, self.device = config, device
        self.every = config.track_every
        self.best_fid: float | None = None
        self.best_step: int | None = None
        self._extractor: Extractor | None = None
        self._reference: Reference | None = None

    def due(self, step: int, total: int) -> bool:
        """Whether to score at ``step``: every ``track_every`` steps and at the end of a long enough run."""
        if not self.every or step < self.every:
            return False
        return step % self.every == 0 or step == total

    def _setup(self) -> None:
        cfg = self.config
        info = get_dataset(cfg.dataset)
        self._extractor = get_extractor(cfg.track_features, info, cfg.resolution)
        self._reference = build_reference(self._extractor, cfg, cfg.track_n)

    def _noise(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        cfg, ref = self.config, self._reference
        gen = torch.Generator().manual_seed(cfg.seed + NOISE_SEED_OFFSET)
        z = torch.randn(cfg.track_n, cfg.z_dim, generator=gen)
        if not cfg.n_classes:
            return z, None
        names = list(cfg.class_names)
        shares = np.bincount(ref.reference_labels, minlength=len(names))
        # the one helper
        counts = split_counts(cfg.track_n, names, dict(zip(names, shares.tolist(), strict=True)))
        return z, torch.from_numpy(np.repeat(np.arange(len(names)), list(counts.values())))

    @torch.no_grad()
    def samples(self, generator: nn.Module, batch_size: int = 64) -> np.ndarray:
        """uint8 images from the fixed noise (the generator in eval mode, then put back as it was)."""
        z, labels = self._noise()
        was_training = generator.training
        generator.eval()
        chunks = []
        for start in range(0, len(z), batch_size):
            part = slice(start, start + batch_size)
            y = labels[part].to(self.device) if labels is not None else None
            chunks.append(to_uint8(generator(z[part].to(self.device), y)))
        generator.train(was_training)
        return np.concatenate(chunks)

    def measure(self, generator: nn.Module, step: int) -> dict[str, Any]:
        """One metrics.jsonl row: FID, KID and their floors at ``step``; ``best`` says whether FID is new lowest."""
        started = time.perf_counter()
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            if self._reference is None:
                self._setup()
            values = score(
                self._reference.reference, self._extractor(self.samples(generator)), self.config.seed
            )
        best = self.best_fid is None or values["fid"] < self.best_fid
        if best:
            self.best_fid, self.best_step = values["fid"], step
        ref = self._reference
        return {
            "step": step,
            **{k: round(v, 6) for k, v in values.items()},
            "fid_floor": round(ref.floor["fid"], 6),
            "kid_floor": round(ref.floor["kid"], 6),
            "track_n": self.config.track_n,
            "track_n_floor": len(ref.floor_set),
            "track_n_reference": len(ref.reference),
            "extractor": self._extractor.name,
            "best": best,
            "track_seconds": round(time.perf_counter() - started, 3),
        }

    def state(self) -> dict[str, Any]:
        """Checkpoint entry: the best value so far (JSON)."""
        return {"tracking": json.dumps({"best_fid": self.best_fid, "best_step": self.best_step})}

    def load(self, checkpoint: dict[str, Any]) -> None:
        """Restore what :meth:`state` saved (older checkpoints have none)."""
        if "tracking" in checkpoint:
            saved = json.loads(checkpoint["tracking"])
            self.best_fid, self.best_step = saved["best_fid"], saved["best_step"]


def floor_note(metrics: pd.DataFrame) -> str | None:
    """A warning once a tracked FID has reached its real-vs-real floor (None before, or untracked).

    There the tracked features no longer tell the generator's images from real ones, so the lowest value,
    and with it ``best.pt``, is decided by noise. Measured on BUSI (in-domain CNN, which classifies only
    37-66 % of held-out images right): tracked best step 1,500 (0.53, floor 0.76) scored Inception FID 151.5,
    the latest step 3,000 125.0 (README, "Standing statistics")."""
    if "fid" not in metrics or "fid_floor" not in metrics:
        return None
    tracked = metrics[metrics["fid"].notna() & metrics["fid_floor"].notna()]
    reached = tracked[tracked["fid"] <= tracked["fid_floor"]]
    if reached.empty:
        return None
    first = reached.iloc[0]
    return (
        f"The tracked FID reached its real-vs-real floor at step {int(first['step'])} "
        f"({first['fid']:.3g} vs {first['fid_floor']:.3g}): in {first['extractor']} features these images "
        "cannot be told from real ones any more, so which checkpoint is 'best' is now decided by noise. "
        "Compare best and latest on the Evaluate page with Inception features, or track Inception "
        "(--track-features inception)."
    )
