"""t-SNE and UMAP maps of real and synthetic images on the evaluation features (one point per image).

t-SNE: van der Maaten L., Hinton G., "Visualizing data using t-SNE", JMLR 2008 (scikit-learn). UMAP:
McInnes L. et al., "UMAP: Uniform Manifold Approximation and Projection", arXiv:1802.03426 (umap-learn).
Features above 50 dimensions are reduced with PCA first. Each map, with the images it shows, is cached as
one ``.npz`` in the run's results folder under a hash of everything it depends on, so a second view is a
file read.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from medgan import runs
from medgan.data.store import dataset_of, load_images
from medgan.metrics.features import get_extractor, subsample_rows
from medgan.sampling import sample_mix
from medgan.workspace import atomic_write_bytes

Method = Literal["tsne", "umap"]
METHODS: dict[str, str] = {"tsne": "t-SNE", "umap": "UMAP"}


@dataclass
class Embedding:
    """A 2-D map: ``points`` (x, y, source, label, index, split) and the images in the same order."""

    points: pd.DataFrame
    images: np.ndarray
    method: str
    extractor: str
    cached: bool
    path: str = ""  # the .npz it is cached in


def project(features: np.ndarray, method: Method, seed: int = 0) -> np.ndarray:
    """(N, D) features -> (N, 2) coordinates with t-SNE or UMAP (PCA to 50 dimensions first when D > 50).

    Runs on one native thread: at these sizes that costs little, while OpenMP's spinning threads slow to a
    crawl (a minute for 36 points) when a training job holds the cores.
    """
    with threadpool_limits(limits=1):
        return _project(features, method, seed)


def _project(features: np.ndarray, method: Method, seed: int) -> np.ndarray:
    feats = np.asarray(features, dtype=np.float64)
    if len(feats) < 5:
        raise ValueError(f"an embedding needs at least 5 images, got {len(feats)}")
    if feats.shape[1] > 50:
        from sklearn.decomposition import PCA

        feats = PCA(n_components=min(50, len(feats)), random_state=seed).fit_transform(feats)
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30.0, (len(feats) - 1) / 3))
        return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(feats)
    if method == "umap":
        import umap

        reducer = umap.UMAP(n_components=2, n_neighbors=min(15, len(feats) - 1), random_state=seed, n_jobs=1)
        return reducer.fit_transform(feats)
    raise ValueError(f"unknown embedding method {method!r}: use {' or '.join(METHODS)}")


def _real_subset(info: Any, resolution: int, n: int, seed: int):
    """Up to ``n`` real images from all splits, chosen with ``seed``."""
    data = load_images(info, resolution=resolution)
    rows = subsample_rows(len(data), n, seed)
    return np.asarray(data.images[rows]), data.labels[rows], data.indices[rows], data.splits[rows]


def embed_generator(
    generator: Any,
    n: int = 300,
    n_real: int | None = None,
    features: str = "domain",
    method: Method = "tsne",
    seed: int = 0,
) -> Embedding:
    """Map ``n`` synthetic and ``n_real`` (default ``n``) real images of the generator's dataset."""
    info = dataset_of(generator.config)  # the version it was trained on
    extractor = get_extractor(features, info, generator.resolution)
    n_real = n if n_real is None else n_real
    key = hashlib.sha1(
        f"{generator.checkpoint_sha256}|{info.id}|{generator.resolution}|{n}|{n_real}|"
        f"{extractor.key}|{method}|{seed}".encode()
    ).hexdigest()[:20]
    path = runs.results_folder(generator.run_id) / "embeddings" / f"{key}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as data:
            return _embedding(data, method, extractor.name, cached=True, path=path)
    fake, fake_labels = sample_mix(generator, n, seed, weights=info.classes)  # the real subset's class mix
    real, real_labels, real_rows, real_splits = _real_subset(info, generator.resolution, n_real, seed)
    images = np.concatenate([real, fake])
    coords = project(extractor(images), method, seed)
    arrays = {
        "x": coords[:, 0],
        "y": coords[:, 1],
        "images": images,
        "source": np.array(["real"] * len(real) + ["synthetic"] * len(fake)),
        "label": np.concatenate([real_labels.astype(str), np.array(fake_labels, dtype=str)]),
        "index": np.concatenate([real_rows, np.arange(len(fake))]),
        "split": np.concatenate([real_splits.astype(str), np.array(["generated"] * len(fake))]),
    }
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())
    return _embedding(arrays, method, extractor.name, cached=False, path=path)


def _embedding(arrays: Any, method: str, extractor: str, cached: bool, path: Path) -> Embedding:
    columns = ("x", "y", "source", "label", "index", "split")
    points = pd.DataFrame({c: np.asarray(arrays[c]) for c in columns})
    return Embedding(
        points=points,
        images=np.asarray(arrays["images"]),
        method=METHODS[method],
        extractor=extractor,
        cached=cached,
        path=str(path),
    )


def load_embedding(path: str | Path, method: Method, extractor: str) -> Embedding:
    """An embedding that :func:`embed_generator` stored (a finished ``embed`` job names its file)."""
    with np.load(path, allow_pickle=False) as data:
        return _embedding(data, method, extractor, cached=True, path=Path(path))


def embed(
    run_id: str,
    n: int = 300,
    n_real: int | None = None,
    features: str = "domain",
    method: Method = "tsne",
    seed: int = 0,
) -> Embedding:
    """:func:`embed_generator` for run ``run_id`` (or ``demo``)."""
    from medgan.generate import load_generator

    return embed_generator(
        load_generator(run_id), n=n, n_real=n_real, features=features, method=method, seed=seed
    )
