"""The numbers and figures behind the Data page: class counts, previews, size and intensity histograms, sources."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from medgan.data.readers import reader_for
from medgan.data.splits import SPLITS
from medgan.data.store import DatasetInfo, load_images, load_manifest


def class_table(manifest: pd.DataFrame) -> pd.DataFrame:
    """One row per class: images, patients, and images per split."""
    table = manifest.groupby("label").agg(images=("index", "size"), patients=("patient_id", "nunique"))
    splits = manifest.pivot_table(
        index="label", columns="split", values="index", aggfunc="size", fill_value=0
    )
    for split in SPLITS:
        table[split] = splits.get(split, 0)
    return table.reset_index()


def preview_rows(manifest: pd.DataFrame, per_class: int = 8, seed: int = 0) -> dict[str, np.ndarray]:
    """Up to ``per_class`` random manifest rows per class (seeded), for a preview grid."""
    rng = np.random.default_rng(seed)
    out = {}
    for label, group in manifest.groupby("label"):
        rows = group["index"].to_numpy()
        out[str(label)] = np.sort(rng.choice(rows, size=min(per_class, len(rows)), replace=False))
    return out


def intensity_histogram(
    info: DatasetInfo, bins: int = 32, max_images: int = 500, seed: int = 0
) -> pd.DataFrame:
    """Fraction of pixels per intensity bin (0-255, cached images) and class, from up to ``max_images`` images.

    Columns: label, intensity (bin centre), fraction, n_images (images the class's curve rests on).
    """
    images = load_images(info)
    rng = np.random.default_rng(seed)
    frames = []
    edges = np.linspace(0, 256, bins + 1)
    for label in images.class_names:
        rows = np.flatnonzero(images.labels == label)
        rows = np.sort(rng.choice(rows, size=min(max_images, len(rows)), replace=False))
        counts, _ = np.histogram(np.asarray(images.images[rows]), bins=edges)
        frames.append(
            pd.DataFrame(
                {
                    "label": label,
                    "intensity": (edges[:-1] + edges[1:]) / 2,
                    "fraction": counts / max(counts.sum(), 1),
                    "n_images": len(rows),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def class_figure(table: pd.DataFrame) -> go.Figure:
    """Stacked bar chart of images per class and split."""
    long = table.melt(id_vars="label", value_vars=list(SPLITS), var_name="split", value_name="count")
    return px.bar(
        long,
        x="label",
        y="count",
        color="split",
        title="Images per class and split",
        labels={"label": "class", "count": "images (count)"},
    )


def size_figure(manifest: pd.DataFrame) -> go.Figure:
    """Histogram of source image sizes (before the square crop and resize)."""
    long = manifest.melt(
        id_vars="label", value_vars=["height", "width"], var_name="side", value_name="pixels"
    )
    return px.histogram(
        long,
        x="pixels",
        color="side",
        barmode="overlay",
        nbins=40,
        title=f"Source image size (n = {len(manifest)} images)",
        labels={"pixels": "side length (px)"},
    )


def intensity_figure(hist: pd.DataFrame) -> go.Figure:
    """Line chart of the intensity histogram per class."""
    hist = hist.assign(cls=hist["label"] + " (n = " + hist["n_images"].astype(str) + ")")
    return px.line(
        hist,
        x="intensity",
        y="fraction",
        color="cls",
        title="Intensity histogram of the cached images",
        labels={"intensity": "pixel value (0-255)", "fraction": "fraction of pixels", "cls": "class"},
    )


def source_path(info: DatasetInfo, source: str) -> Path | None:
    """The original file behind a manifest ``source`` entry, when it still exists (not for ZIP imports)."""
    root = Path(info.source)
    path = root if root.is_file() and root.name == source else root / source
    return path if root.suffix.lower() != ".zip" and path.is_file() else None


def dicom_sources(info: DatasetInfo, limit: int = 200) -> list[str]:
    """Which of the first ``limit`` manifest sources are DICOM files that are still available."""
    found = []
    for source in load_manifest(info)["source"].drop_duplicates()[:limit]:
        path = source_path(info, source)
        reader = reader_for(path) if path is not None else None
        if reader is not None and reader.name == "dicom":
            found.append(source)
    return found
