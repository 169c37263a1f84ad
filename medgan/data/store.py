"""The dataset registry (SQLite ``datasets`` table) and access to a dataset's manifest and images.

A name can have several versions: re-importing under the same name adds version N+1 and leaves the older
versions (and the runs trained on them) untouched. Each version records the SHA-256 of its manifest, so a run
can tell whether the data it names is still the data it trained on.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from medgan import audit, db, workspace
from medgan.data.cache import open_cache

SCHEMA = """
CREATE TABLE IF NOT EXISTS datasets (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    fingerprint TEXT NOT NULL DEFAULT '',
    archived INTEGER NOT NULL DEFAULT 0,
    source TEXT NOT NULL,
    created TEXT NOT NULL DEFAULT (datetime('now')),
    n_images INTEGER NOT NULL,
    channels INTEGER NOT NULL,
    base_resolution INTEGER NOT NULL,
    classes TEXT NOT NULL,
    n_skipped INTEGER NOT NULL DEFAULT 0,
    description TEXT NOT NULL DEFAULT '',
    stack INTEGER NOT NULL DEFAULT 0,
    UNIQUE (name, version)
);
"""
_NEW_COLUMNS = ("version", "fingerprint", "archived", "stack")


class DatasetNotFound(KeyError):
    """No dataset with that name or id."""


@dataclass(frozen=True)
class DatasetInfo:
    """A registered dataset. ``classes`` maps label -> image count; ``stack``: the channels are adjacent
    slices of a 2.5D stack (``--multiframe stack``), not grey or RGB colour."""

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
    version: int = 1
    fingerprint: str = ""  # SHA-256 of manifest.csv, recorded at registration
    archived: bool = False
    stack: bool = False

    @property
    def label(self) -> str:
        """The name, with the version when there is more than one (``busi v2``)."""
        return self.name if self.version == 1 else f"{self.name} v{self.version}"

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
    patients: np.ndarray  # (N,) str: the unit of splitting (patient, merged with its duplicate groups)
    splits: np.ndarray  # (N,) str
    indices: np.ndarray  # (N,) row numbers in the manifest
    class_names: list[str]

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def label_ids(self) -> np.ndarray:
        """Labels as integers indexing ``class_names``."""
        return encode_labels(self.labels, self.class_names)


def _connect():
    """A connection with the datasets schema; a database that lacks a newer column is migrated first."""
    conn = db.connect()
    columns = {r["name"] for r in conn.execute("PRAGMA table_info(datasets)")}
    if columns and not set(_NEW_COLUMNS) <= columns:
        _migrate(conn, columns)
    conn.executescript(SCHEMA)
    return conn


def _migrate(conn, columns: set[str]) -> None:
    """Rebuild an old ``datasets`` table with every column it has; missing ones take their defaults (from before
    versions: unique names become version 1 of each name), and missing fingerprints are filled in."""
    keep = ", ".join(sorted(columns))
    conn.executescript(
        f"BEGIN IMMEDIATE; ALTER TABLE datasets RENAME TO datasets_old; {SCHEMA}"
        f"INSERT INTO datasets ({keep}) SELECT {keep} FROM datasets_old; DROP TABLE datasets_old; COMMIT;"
    )
    for row in conn.execute("SELECT id FROM datasets").fetchall():
        manifest = workspace.home() / "datasets" / row["id"] / "manifest.csv"
        if manifest.is_file():
            conn.execute(
                "UPDATE datasets SET fingerprint = ? WHERE id = ? AND fingerprint = ''",
                (workspace.file_digest(manifest), row["id"]),
            )


def _transaction():
    """``db.transaction`` on the (migrated) datasets schema."""
    _connect().close()
    return db.transaction(SCHEMA)


def _info(row) -> DatasetInfo:
    data = dict(row)
    data["classes"] = json.loads(data["classes"])
    data["archived"], data["stack"] = bool(data["archived"]), bool(data["stack"])
    return DatasetInfo(**data)


def _rows(sql: str, args: tuple = ()) -> list[DatasetInfo]:
    conn = _connect()
    try:
        return [_info(r) for r in conn.execute(sql, args).fetchall()]
    finally:
        conn.close()


def list_datasets(all_versions: bool = False, archived: bool = False) -> list[DatasetInfo]:
    """Datasets, newest first: the latest version of each name (every version with ``all_versions``);
    archived ones only when ``archived`` is True."""
    rows = _rows("SELECT * FROM datasets ORDER BY created DESC, name, version DESC")
    rows = [r for r in rows if archived or not r.archived]
    if all_versions:
        return rows
    latest: dict[str, DatasetInfo] = {}
    for info in rows:
        if info.name not in latest or info.version > latest[info.name].version:
            latest[info.name] = info
    return [r for r in rows if latest[r.name] is r]


def get_dataset(name_or_id: str) -> DatasetInfo:
    """A dataset version by id, or the latest (not archived, when one is not) version of a name;
    raises :class:`DatasetNotFound`."""
    rows = _rows(
        "SELECT * FROM datasets WHERE id = ? OR name = ? ORDER BY archived, version DESC",
        (name_or_id, name_or_id),
    )
    exact = [r for r in rows if r.id == name_or_id]
    if not rows:
        raise DatasetNotFound(f"no dataset named {name_or_id!r}")
    return exact[0] if exact else rows[0]


def dataset_version(name: str, dataset_id: str = "", fingerprint: str = "") -> DatasetInfo:
    """The exact data a run was made from: version ``dataset_id`` when recorded (old runs: the latest of
    ``name``); raises :class:`DatasetNotFound` when that version is gone or its manifest changed."""
    if not dataset_id:
        return get_dataset(name)
    rows = _rows("SELECT * FROM datasets WHERE id = ?", (dataset_id,))
    if not rows and fingerprint:
        rows = _same_data(name, fingerprint)
    if not rows or not (rows[0].folder / "manifest.csv").is_file():
        raise DatasetNotFound(
            f"the data this run was trained on ({name!r}, version id {dataset_id}) was deleted; "
            "its checkpoints can still be sampled, but it cannot be trained further or evaluated "
            "against that data"
        )
    info = rows[0]
    if fingerprint and workspace.file_digest(info.folder / "manifest.csv") != fingerprint:
        raise DatasetNotFound(
            f"dataset {info.label!r} (id {dataset_id}) no longer matches the manifest this run "
            f"recorded (SHA-256 {fingerprint[:12]}...); refusing to use changed data"
        )
    return info


def _same_data(name: str, fingerprint: str) -> list[DatasetInfo]:
    """Versions of ``name`` whose manifest has SHA-256 ``fingerprint``: the same data under another id (a
    generator exported from another workspace, or the demo phantom that every workspace makes alike)."""
    rows = _rows(
        "SELECT * FROM datasets WHERE name = ? AND fingerprint = ? ORDER BY archived, version DESC",
        (name, fingerprint),
    )
    return [r for r in rows if (r.folder / "manifest.csv").is_file()]


def dataset_of(config: dict) -> DatasetInfo:
    """The dataset version recorded in a run's config (``config.json`` as a dict)."""
    return dataset_version(
        config["dataset"], config.get("dataset_id", ""), config.get("dataset_fingerprint", "")
    )


def register_dataset(info: DatasetInfo, replace: bool = False) -> DatasetInfo:
    """Insert a dataset row (fingerprint from its manifest.csv); the registered row is returned.

    When the name is taken, ``replace`` adds the next version of it (older versions stay, unchanged);
    without it a :class:`ValueError` asks for another name."""
    manifest = info.folder / "manifest.csv"
    fingerprint = workspace.file_digest(manifest) if manifest.is_file() else ""
    with _transaction() as conn:
        top = conn.execute("SELECT MAX(version) FROM datasets WHERE name = ?", (info.name,)).fetchone()[0]
        if top is not None and not replace:
            raise ValueError(
                f"a dataset named {info.name!r} already exists (version {top}); choose another name "
                "or import it as a new version"
            )
        info = dataclasses.replace(info, version=(top or 0) + 1, fingerprint=fingerprint, archived=False)
        conn.execute(
            "INSERT INTO datasets (id, name, version, fingerprint, source, created, n_images, channels,"
            " base_resolution, classes, n_skipped, description, stack) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                info.id,
                info.name,
                info.version,
                info.fingerprint,
                info.source,
                info.created,
                info.n_images,
                info.channels,
                info.base_resolution,
                json.dumps(info.classes),
                info.n_skipped,
                info.description,
                int(info.stack),
            ),
        )
    audit.record(
        "register dataset", f"dataset:{info.id}", name=info.name, version=info.version, n_images=info.n_images
    )
    return info


def set_archived(dataset_id: str, archived: bool = True) -> None:
    """Hide a dataset version from pickers (or show it again); its files stay, runs keep using it."""
    with _transaction() as conn:
        conn.execute("UPDATE datasets SET archived = ? WHERE id = ?", (int(archived), dataset_id))
    audit.record("archive dataset" if archived else "unarchive dataset", f"dataset:{dataset_id}")


def rename_dataset(dataset_id: str, new_name: str) -> DatasetInfo:
    """Give one dataset version a new name (as that name's next version); runs keep its id, so nothing moves."""
    new_name = new_name.strip()
    if not new_name:
        raise ValueError("a dataset needs a name")
    with _transaction() as conn:
        top = conn.execute("SELECT MAX(version) FROM datasets WHERE name = ?", (new_name,)).fetchone()[0]
        conn.execute(
            "UPDATE datasets SET name = ?, version = ? WHERE id = ?", (new_name, (top or 0) + 1, dataset_id)
        )
    audit.record("rename dataset", f"dataset:{dataset_id}", name=new_name)
    return get_dataset(dataset_id)


def delete_dataset(name_or_id: str) -> None:
    """Remove one dataset version's row and folder (by id, or the latest version of a name)."""
    info = get_dataset(name_or_id)
    with _transaction() as conn:
        conn.execute("DELETE FROM datasets WHERE id = ?", (info.id,))
    audit.record("delete dataset", f"dataset:{info.id}", name=info.name)
    shutil.rmtree(info.folder, ignore_errors=True)


def encode_labels(labels: np.ndarray, class_names: list[str]) -> np.ndarray:
    """Labels as indices into ``class_names``; a label not among them is an error, never class 0."""
    lookup = {name: i for i, name in enumerate(class_names)}
    unknown = sorted(set(map(str, labels)) - set(lookup))
    if unknown:
        raise ValueError(
            f"labels {', '.join(map(repr, unknown[:5]))} are not among the classes "
            f"{', '.join(class_names)}; the data no longer matches the model"
        )
    return np.array([lookup[label] for label in labels], dtype=np.int64)


def load_manifest(info: DatasetInfo) -> pd.DataFrame:
    """The manifest: one row per image (index, source, frame, label, patient_id, split, height, width,
    split_group: the patient merged with its duplicate groups, absent in datasets imported before it)."""
    return pd.read_csv(
        info.folder / "manifest.csv",
        dtype={"label": str, "patient_id": str, "split": str, "split_group": str},
    )


def load_skipped(info: DatasetInfo) -> pd.DataFrame:
    """The ingestion report: one row (file, reason) per skipped file."""
    path = info.folder / "skipped.csv"
    return pd.read_csv(path, dtype=str) if path.exists() else pd.DataFrame(columns=["file", "reason"])


def load_images(
    info: DatasetInfo, resolution: int | None = None, split: str | list[str] | None = None
) -> ImageSet:
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
        patients=manifest.get("split_group", manifest["patient_id"]).to_numpy(dtype=str)[rows],
        splits=manifest["split"].to_numpy(dtype=str)[rows],
        indices=rows,
        class_names=sorted(info.classes),
    )
