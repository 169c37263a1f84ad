"""Dataset versions: a re-import under the same name adds a version and never changes what a run trained on."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest
from PIL import Image

from medgan import db, runs
from medgan.data.ingest import ingest
from medgan.data.store import (
    DatasetNotFound,
    dataset_version,
    delete_dataset,
    encode_labels,
    get_dataset,
    list_datasets,
    load_images,
)
from medgan.jobs.training import resume_run
from medgan.train.config import default_config, load_config
from medgan.train.trainer import create_run


def _folder(root, value: int, n: int = 3):
    for label in ("a", "b"):
        (root / label).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            Image.fromarray(np.full((16, 16), value + i, np.uint8)).save(root / label / f"{i}.png")
    return root


def test_reimport_adds_a_version_and_the_run_keeps_its_data(tmp_path):
    first = ingest(_folder(tmp_path / "v1", 10), "scans", resolution=32).dataset
    run_id = create_run(default_config("scans", "dcgan", resolution=32, conditional="conditional"))
    config = load_config(runs.run_dir(run_id))
    assert (config.dataset_id, config.dataset_fingerprint) == (first.id, first.fingerprint)
    assert len(first.fingerprint) == 64

    with pytest.raises(ValueError, match="already exists"):
        ingest(_folder(tmp_path / "v2", 100, n=5), "scans", resolution=32)
    second = ingest(tmp_path / "v2", "scans", resolution=32, replace=True).dataset
    assert (first.version, second.version) == (1, 2) and second.fingerprint != first.fingerprint
    assert get_dataset("scans").id == second.id and [d.label for d in list_datasets()] == ["scans v2"]
    assert len(list_datasets(all_versions=True)) == 2

    trained_on = dataset_version(config.dataset, config.dataset_id, config.dataset_fingerprint)
    assert trained_on.id == first.id
    pixels = load_images(trained_on).images[:, 0, 0, 0]
    assert sorted(pixels.tolist()) == [10, 10, 11, 11, 12, 12]  # version 1's pixels, not version 2's


def test_resume_refuses_when_the_runs_data_is_gone_or_changed(tmp_path):
    info = ingest(_folder(tmp_path / "src", 10), "scans", resolution=32).dataset
    run_id = create_run(default_config("scans", "dcgan", resolution=32))
    manifest = info.folder / "manifest.csv"
    manifest.write_text(manifest.read_text().replace(",a,", ",b,"))
    with pytest.raises(ValueError, match="no longer matches the manifest"):
        resume_run(run_id, launch=False)
    delete_dataset(info.id)
    with pytest.raises(ValueError, match=f"run {run_id} cannot resume: .*was deleted"):
        resume_run(run_id, launch=False)
    with pytest.raises(DatasetNotFound):
        get_dataset("scans")


def test_the_same_data_under_another_id_is_found_by_its_fingerprint(tmp_path):
    """A generator exported from another workspace (or the shipped demo) names a version id this workspace
    never had; the same manifest under the same name is that data, anything else is not."""
    info = ingest(_folder(tmp_path / "src", 10), "scans", resolution=32).dataset
    assert dataset_version("scans", "0123456789ab", info.fingerprint).id == info.id
    with pytest.raises(DatasetNotFound, match="version id 0123456789ab\\) was deleted"):
        dataset_version("scans", "0123456789ab", "f" * 64)
    with pytest.raises(DatasetNotFound, match="was deleted"):
        dataset_version("other", "0123456789ab", info.fingerprint)


def test_unknown_labels_are_an_error_not_class_zero():
    assert encode_labels(np.array(["b", "a", "b"]), ["a", "b"]).tolist() == [1, 0, 1]
    with pytest.raises(ValueError, match="'c' are not among the classes a, b"):
        encode_labels(np.array(["a", "c"]), ["a", "b"])


def test_an_old_database_is_migrated_to_versions(tmp_path):
    info = ingest(_folder(tmp_path / "src", 10), "scans", resolution=32).dataset
    conn = sqlite3.connect(db.db_path())
    row = conn.execute(
        "SELECT id, name, source, created, n_images, channels, base_resolution, classes, n_skipped,"
        " description FROM datasets"
    ).fetchone()
    conn.executescript(
        "DROP TABLE datasets; CREATE TABLE datasets (id TEXT PRIMARY KEY, name TEXT UNIQUE NOT NULL,"
        " source TEXT NOT NULL, created TEXT NOT NULL, n_images INTEGER NOT NULL, channels INTEGER"
        " NOT NULL, base_resolution INTEGER NOT NULL, classes TEXT NOT NULL, n_skipped INTEGER NOT"
        " NULL DEFAULT 0, description TEXT NOT NULL DEFAULT '');"
    )
    conn.execute("INSERT INTO datasets VALUES (?,?,?,?,?,?,?,?,?,?)", row)
    conn.commit()
    conn.close()
    migrated = get_dataset("scans")
    assert (migrated.id, migrated.version, migrated.fingerprint) == (info.id, 1, info.fingerprint)
    assert json.loads(json.dumps(migrated.classes)) == {"a": 3, "b": 3}
    again = ingest(tmp_path / "src", "scans", resolution=32, replace=True).dataset
    assert again.version == 2


def test_a_database_from_before_stacks_keeps_its_versions_and_gains_the_flag(tmp_path):
    """A datasets table with versions but no ``stack`` column migrates: versions, fingerprints and archive
    state kept, every dataset not a stack."""
    first = ingest(_folder(tmp_path / "v1", 10), "scans", resolution=32).dataset
    second = ingest(_folder(tmp_path / "v2", 50), "scans", resolution=32, replace=True).dataset
    conn = sqlite3.connect(db.db_path())
    conn.executescript(
        "UPDATE datasets SET archived = 1 WHERE version = 1; ALTER TABLE datasets DROP COLUMN stack;"
    )
    conn.close()
    rows = {d.id: d for d in list_datasets(all_versions=True, archived=True)}
    assert [(rows[d.id].version, rows[d.id].fingerprint) for d in (first, second)] == [
        (1, first.fingerprint),
        (2, second.fingerprint),
    ]
    assert rows[first.id].archived and not rows[second.id].archived
    assert not any(d.stack for d in rows.values())
    columns = {r[1] for r in sqlite3.connect(db.db_path()).execute("PRAGMA table_info(datasets)")}
    assert "stack" in columns
