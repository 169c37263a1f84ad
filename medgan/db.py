"""The workspace's SQLite database (``medgan.db``, WAL mode).

Each store module owns its tables and passes its ``CREATE TABLE IF NOT EXISTS`` script to :func:`connect`,
so there is no central schema file to keep in step.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from medgan import workspace


def db_path() -> str:
    """Path of the workspace database file."""
    return str(workspace.home() / "medgan.db")


def connect(schema: str = "") -> sqlite3.Connection:
    """Open the workspace database with WAL, a busy timeout and ``Row`` rows; apply ``schema`` if given."""
    conn = sqlite3.connect(db_path(), timeout=30.0, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    if schema:
        conn.executescript(schema)
    return conn


@contextmanager
def transaction(schema: str = "") -> Iterator[sqlite3.Connection]:
    """A connection inside one ``BEGIN IMMEDIATE`` transaction: committed on success, rolled back on error."""
    conn = connect(schema)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    finally:
        conn.close()
