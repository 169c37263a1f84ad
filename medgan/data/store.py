"""The dataset registry (SQLite ``datasets`` table) and access to a dataset's manifest and images."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from medgan import db, workspace
from medgan.data.cache import open_cache

SCHEMA = """
CREATE TABLE IF NOT EXISTS datasets (
    id TEXT PRIMARY KEY,
    name TEXT UNIQUE NOT NULL,
    source TEXT NOT NULL,
    created TEXT NOT NULL DEFAULT (datetime('now')),
    n_images INTEGER NOT NULL,
    channels INTEGER NOT NULL,
    base_resolution INTEGER NOT NULL,
    classes TEXT NOT NULL,
    n_skipped INTEGER NOT NULL DEFAULT 0,
    description TEXT NOT NULL DEFAULT ''
);
"""


class DatasetNotFound(KeyError):
    """No dataset with that name or id."""


@dataclass(frozen=True)
class DatasetInfo:
    """A registered dataset. ``classes`` maps label -> image count."""

    id: str
    name: str
    source: str
    created: str
    n_images: int
    channels: int
    base_resolution: int
    classes: dict[str, int]
    n_skipped: int
    description: str

    @property
    def folder(self) -> Path:
        """The dataset's folder in the workspace."""
        return workspace.home() / "datasets" / self.id

    @property
    def labelled(self) -> bool:
        """True when the dataset has more than one class."""
        return len(self.classes) > 1


@dataclass
class ImageSet:
    """Images of a dataset at one resolution with their per-row labels, patients and splits."""

    images: np.ndarray  # (N, C, R, R) uint8, memory-mapped or a selection of it
    labels: np.ndarray  # (N,) str
    patients: np.ndarray  # (N,) str
    splits: np.ndarray  # (N,) str
    indices: np.ndarray  # (N,) row numbers in the manifest
    class_names: list[str]

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def label_ids(self) -> np.ndarray:
        """Labels as integers indexing ``class_names``."""
        lookup = {name: i for i, name in enumerate(self.class_names)}
        return np.array([lookup[label] for label in self.labels], dtype=np.int64)


def _info(row) -> DatasetInfo:
    data = dict(row)
    data["classes"] = json.loads(data["classes"])
    return DatasetInfo(**data)


def list_datasets() -> list[DatasetInfo]:
    """All datasets, newest first."""
    conn = db.connect(SCHEMA)
    try:
        rows = conn.execute("SELECT * FROM datasets ORDER BY created DESC, name").fetchall()
    finally:
        conn.close()
    return [_info(r) for r in rows]


def get_dataset(name_or_id: str) -> DatasetInfo:
    """Look a dataset up by name or id; raises :class:`DatasetNotFound`."""
    conn = db.connect(SCHEMA)
    try:
        row = conn.execute("SELECT * FROM datasets WHERE name = ? OR id = ?", (name_or_id, name_or_id)).fetchone()
    finally:
        conn.close()
    if row is None:
        raise DatasetNotFound(f"no dataset named {name_or_id!r}")
    return _info(row)


def register_dataset(info: DatasetInfo, replace: bool = False) -> None:
    """Insert a dataset row; with ``replace`` the older dataset of that name is removed in the same step."""
    with db.transaction(SCHEMA) as conn:
        old = conn.execute("SELECT id FROM datasets WHERE name = ?", (info.name,)).fetchone()
        if old is not None:
            if not replace:
                raise ValueError(f"a dataset named {info.name!r} already exists; choose another name")
            conn.execute("DELETE FROM datasets WHERE id = ?", (old["id"],))
        conn.execute(
            "INSERT INTO datasets (id, name, source, created, n_images, channels, base_resolution, classes,"
            " n_skipped, description) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (info.id, info.name, info.source, info.created, info.n_images, info.channels, info.base_resolution,
             json.dumps(info.classes), info.n_skipped, info.description),
        )
    if old is not None and old["id"] != info.id:
        shutil.rmtree(workspace.home() / "datasets" / old["id"], ignore_errors=True)


def delete_dataset(name_or_id: str) -> None:
    """Remove a dataset's row and folder."""
    info = get_dataset(name_or_id)
    with db.transaction(SCHEMA) as conn:
        conn.execute("DELETE FROM datasets WHERE id = ?", (info.id,))
    shutil.rmtree(info.folder, ignore_errors=True)


def load_manifest(info: DatasetInfo) -> pd.DataFrame:
    """The manifest: one row per image (index, source, frame, label, patient_id, split, height, width)."""
    return pd.read_csv(info.folder / "manifest.csv", dtype={"label": str, "patient_id": str, "split": str})


def load_skipped(info: DatasetInfo) -> pd.DataFrame:
    """The ingestion report: one row (file, reason) per skipped file."""
    path = info.folder / "skipped.csv"
    return pd.read_csv(path, dtype=str) if path.exists() else pd.DataFrame(columns=["file", "reason"])


def load_images(info: DatasetInfo, resolution: int | None = None, split: str | list[str] | None = None) -> ImageSet:
    """Images at ``resolution`` (default: the base cache), optionally only the given split(s)."""
    manifest = load_manifest(info)
    images = open_cache(info.folder, resolution or info.base_resolution, info.base_resolution)
    rows = np.arange(len(manifest))
    if split is not None:
        wanted = [split] if isinstance(split, str) else list(split)
        rows = rows[manifest["split"].isin(wanted).to_numpy()]
    selected = images if len(rows) == len(manifest) else images[rows]
    return ImageSet(
        images=selected,
        labels=manifest["label"].to_numpy(dtype=str)[rows],
        patients=manifest["patient_id"].to_numpy(dtype=str)[rows],
        splits=manifest["split"].to_numpy(dtype=str)[rows],
        indices=rows,
        class_names=sorted(info.classes),
    )
