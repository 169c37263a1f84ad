"""The Turing-study tables in the workspace database.

Studies, raters (token, name, revoked), study images (opaque id -> clean PNG bytes), the truth about each
image in its own table (never joined into anything a rater is served), and ratings, which are append-only:
triggers refuse every UPDATE and DELETE on ``turing_ratings``.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

from medgan import audit, db

SCHEMA = """
CREATE TABLE IF NOT EXISTS turing_studies (
    id TEXT PRIMARY KEY,
    name TEXT UNIQUE NOT NULL,
    dataset TEXT NOT NULL,
    run_id TEXT NOT NULL,
    n_real INTEGER NOT NULL,
    n_synthetic INTEGER NOT NULL,
    per_class INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    created TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS turing_raters (
    token TEXT PRIMARY KEY,
    study_id TEXT NOT NULL REFERENCES turing_studies(id),
    name TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    UNIQUE (study_id, name)
);
CREATE TABLE IF NOT EXISTS turing_images (
    id TEXT PRIMARY KEY,
    study_id TEXT NOT NULL REFERENCES turing_studies(id),
    png BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS turing_truth (
    image_id TEXT PRIMARY KEY REFERENCES turing_images(id),
    study_id TEXT NOT NULL REFERENCES turing_studies(id),
    source TEXT NOT NULL CHECK (source IN ('real', 'synthetic')),
    label TEXT NOT NULL DEFAULT '',
    origin TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS turing_ratings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    study_id TEXT NOT NULL REFERENCES turing_studies(id),
    rater_token TEXT NOT NULL REFERENCES turing_raters(token),
    image_id TEXT NOT NULL REFERENCES turing_images(id),
    answer TEXT NOT NULL CHECK (answer IN ('real', 'synthetic')),
    confidence INTEGER NOT NULL CHECK (confidence BETWEEN 1 AND 5),
    comment TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    UNIQUE (rater_token, image_id)
);
CREATE TRIGGER IF NOT EXISTS turing_ratings_no_update BEFORE UPDATE ON turing_ratings
BEGIN SELECT RAISE(ABORT, 'turing_ratings is append-only: ratings cannot be changed'); END;
CREATE TRIGGER IF NOT EXISTS turing_ratings_no_delete BEFORE DELETE ON turing_ratings
BEGIN SELECT RAISE(ABORT, 'turing_ratings is append-only: ratings cannot be deleted'); END;
"""

ANSWERS = ("real", "synthetic")


class StudyNotFound(KeyError):
    """No study with that name or id."""


class AlreadyRated(ValueError):
    """This rater has already answered for this image (answers cannot be changed)."""


@dataclass(frozen=True)
class Study:
    """A visual Turing study. ``details`` holds the class counts and generator facts recorded at creation."""

    id: str
    name: str
    dataset: str
    run_id: str
    n_real: int
    n_synthetic: int
    per_class: bool
    seed: int
    created: str
    details: dict


@dataclass(frozen=True)
class Rater:
    """A rater of one study; ``token`` is the secret in their link."""

    token: str
    study_id: str
    name: str
    revoked: bool
    created: str


def now() -> str:
    """UTC time stamp (ISO 8601, microseconds) for rows."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def connect() -> sqlite3.Connection:
    """A connection with the Turing tables in place."""
    return db.connect(SCHEMA)


def transaction():
    """One ``BEGIN IMMEDIATE`` transaction over the Turing tables."""
    return db.transaction(SCHEMA)


def _study(row: sqlite3.Row) -> Study:
    data = dict(row)
    data["per_class"] = bool(data["per_class"])
    data["details"] = json.loads(data["details"])
    return Study(**data)


def _rater(row: sqlite3.Row) -> Rater:
    data = dict(row)
    data["revoked"] = bool(data["revoked"])
    return Rater(**data)


def _fetch(sql: str, params: tuple = ()) -> list[sqlite3.Row]:
    conn = connect()
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def list_studies() -> list[Study]:
    """All studies, newest first."""
    return [_study(r) for r in _fetch("SELECT * FROM turing_studies ORDER BY created DESC")]


def get_study(name_or_id: str) -> Study:
    """A study by name or id; raises :class:`StudyNotFound`."""
    rows = _fetch("SELECT * FROM turing_studies WHERE name = ? OR id = ?", (name_or_id, name_or_id))
    if not rows:
        raise StudyNotFound(f"no Turing study named {name_or_id!r}")
    return _study(rows[0])


def list_raters(study_id: str) -> list[Rater]:
    """The raters of a study in the order they were added."""
    rows = _fetch("SELECT * FROM turing_raters WHERE study_id = ? ORDER BY created, name", (study_id,))
    return [_rater(r) for r in rows]


def find_rater(token: str) -> Rater | None:
    """The rater holding ``token`` (revoked or not), or None."""
    rows = _fetch("SELECT * FROM turing_raters WHERE token = ?", (token,))
    return _rater(rows[0]) if rows else None


def set_revoked(study_id: str, rater_name: str) -> Rater:
    """Revoke a rater's token by name; their ratings so far stay. Raises KeyError for an unknown name."""
    with transaction() as conn:
        changed = conn.execute(
            "UPDATE turing_raters SET revoked = 1 WHERE study_id = ? AND name = ?", (study_id, rater_name)
        ).rowcount
    if not changed:
        raise KeyError(f"no rater named {rater_name!r} in this study")
    audit.record("revoke rater", f"study:{study_id}", rater=rater_name)
    return next(r for r in list_raters(study_id) if r.name == rater_name)


def image_ids(study_id: str) -> list[str]:
    """The opaque image ids of a study, sorted (their sort order carries no meaning)."""
    return [
        r["id"] for r in _fetch("SELECT id FROM turing_images WHERE study_id = ? ORDER BY id", (study_id,))
    ]


def image_png(study_id: str, image_id: str) -> bytes:
    """The stored PNG bytes of one study image; KeyError when the id is not in this study."""
    rows = _fetch("SELECT png FROM turing_images WHERE study_id = ? AND id = ?", (study_id, image_id))
    if not rows:
        raise KeyError(f"image {image_id!r} is not part of this study")
    return bytes(rows[0]["png"])


def rated_image_ids(token: str) -> set[str]:
    """Images this rater has answered."""
    return {
        r["image_id"] for r in _fetch("SELECT image_id FROM turing_ratings WHERE rater_token = ?", (token,))
    }


def insert_rating(
    study_id: str, token: str, image_id: str, answer: str, confidence: int, comment: str
) -> int:
    """Append one rating in its own transaction; returns its row id. Raises :class:`AlreadyRated`."""
    try:
        with transaction() as conn:
            cur = conn.execute(
                "INSERT INTO turing_ratings (study_id, rater_token, image_id, answer, confidence, comment, created)"
                " VALUES (?,?,?,?,?,?,?)",
                (study_id, token, image_id, answer, confidence, comment, now()),
            )
            return int(cur.lastrowid)
    except sqlite3.IntegrityError as exc:
        if "UNIQUE" in str(exc):
            raise AlreadyRated("this image has already been rated by this rater") from exc
        raise


def ratings_with_truth(study_id: str) -> list[sqlite3.Row]:
    """Every rating of a study joined with its rater and the truth (owner-side only)."""
    return _fetch(
        "SELECT r.id AS rating_id, k.name AS rater, k.revoked AS rater_revoked, r.image_id, t.source AS truth,"
        " t.label, r.answer, r.confidence, r.comment, r.created"
        " FROM turing_ratings r JOIN turing_raters k ON k.token = r.rater_token"
        " JOIN turing_truth t ON t.image_id = r.image_id WHERE r.study_id = ? ORDER BY r.id",
        (study_id,),
    )


def rating_counts(study_id: str) -> dict[str, int]:
    """Number of ratings per rater token."""
    rows = _fetch(
        "SELECT rater_token, COUNT(*) AS n FROM turing_ratings WHERE study_id = ? GROUP BY rater_token",
        (study_id,),
    )
    return {r["rater_token"]: int(r["n"]) for r in rows}


STUDY_TABLES = ("turing_ratings", "turing_truth", "turing_images", "turing_raters")


def study_row_counts(study_id: str) -> dict[str, int]:
    """Rows a study owns in each Turing table (what deleting it removes)."""
    return {
        table: _fetch(f"SELECT COUNT(*) FROM {table} WHERE study_id = ?", (study_id,))[0][0]
        for table in STUDY_TABLES
    }


def delete_study(study_id: str) -> None:
    """Remove a study with its raters, images, truth and ratings in one transaction. Ratings are otherwise
    append-only: the guard trigger is lifted for this transaction only and restored before it commits."""
    with transaction() as conn:
        conn.execute("DROP TRIGGER turing_ratings_no_delete")
        for table in STUDY_TABLES:
            conn.execute(f"DELETE FROM {table} WHERE study_id = ?", (study_id,))
        conn.execute("DELETE FROM turing_studies WHERE id = ?", (study_id,))
        conn.execute(
            "CREATE TRIGGER turing_ratings_no_delete BEFORE DELETE ON turing_ratings BEGIN SELECT "
            "RAISE(ABORT, 'turing_ratings is append-only: ratings cannot be deleted'); END"
        )


def rename_study(study_id: str, name: str) -> None:
    """Give a study a new (unique) name; tokens, images and ratings are unchanged."""
    if not name.strip():
        raise ValueError("a study needs a name")
    try:
        with transaction() as conn:
            conn.execute("UPDATE turing_studies SET name = ? WHERE id = ?", (name.strip(), study_id))
    except sqlite3.IntegrityError as exc:
        raise ValueError(f"a Turing study named {name.strip()!r} already exists") from exc
