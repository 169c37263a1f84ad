"""The workspace's SQLite database (``medgan.db``, WAL mode).

Each store module owns its tables and passes its ``CREATE TABLE IF NOT EXISTS`` script to :func:`connect`,
so there is no central schema file to keep in step.

A busy database is expected (a page creating a study while a worker reports progress): every write waits
``MEDGAN_DB_BUSY_SECONDS`` per attempt (SQLite's busy timeout) and is retried with exponential backoff for
up to ``MEDGAN_DB_RETRY_SECONDS`` in total before :class:`sqlite3.OperationalError` reaches the caller.
Transactions are kept short: callers prepare their data (encode images, serialise JSON) before they begin.

A worker process calls :func:`reuse_connections`: each of its threads then keeps one open connection (schema
applied once), so a progress report or a cancel poll does not reconnect.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from medgan import workspace

BUSY_ENV, RETRY_ENV = "MEDGAN_DB_BUSY_SECONDS", "MEDGAN_DB_RETRY_SECONDS"
DEFAULT_BUSY_SECONDS, DEFAULT_RETRY_SECONDS = 5.0, 600.0
_FIRST_BACKOFF, _MAX_BACKOFF = 0.05, 2.0
T = TypeVar("T")


def db_path() -> str:
    """Path of the workspace database file."""
    return str(workspace.home() / "medgan.db")


def _seconds(env: str, default: float) -> float:
    try:
        return max(0.0, float(os.environ.get(env, default)))
    except ValueError:
        return default


def is_busy(exc: BaseException) -> bool:
    """True for SQLite's "database is locked" / "busy" errors, the ones worth retrying."""
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def with_retry(fn: Callable[[], T], *, total_seconds: float | None = None) -> T:
    """Call ``fn()``; while it fails with a busy database, wait (50 ms doubling up to 2 s) and call it again,
    for at most ``total_seconds`` (default ``MEDGAN_DB_RETRY_SECONDS``, 600 s); then the error is raised."""
    deadline = time.monotonic() + (
        _seconds(RETRY_ENV, DEFAULT_RETRY_SECONDS) if total_seconds is None else total_seconds
    )
    pause = _FIRST_BACKOFF
    while True:
        try:
            return fn()
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, _MAX_BACKOFF)


_KEPT = threading.local()  # per thread: the kept connection, its database path and applied schemas
_reuse = False


class _KeptConnection:
    """A thread's one connection: everything goes to the real one, except ``close()`` (a no-op)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn, self.schemas = conn, set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def close(self) -> None:
        """Kept open for the thread's next call (closed with the thread)."""


def reuse_connections() -> None:
    """From now on every thread of this process keeps one connection to the workspace database."""
    global _reuse
    _reuse = True


def connect(schema: str = "") -> sqlite3.Connection:
    """The workspace database (this thread's kept connection after :func:`reuse_connections`)."""
    if not _reuse:
        return _open(schema)
    kept = getattr(_KEPT, "conn", None)
    if kept is None or _KEPT.path != db_path():
        if kept is not None:
            kept._conn.close()
        kept, _KEPT.path = _KeptConnection(_open()), db_path()
        _KEPT.conn = kept
    if schema and schema not in kept.schemas:
        with_retry(lambda: kept.executescript(schema))
        kept.schemas.add(schema)
    return kept


def _open(schema: str = "") -> sqlite3.Connection:
    """Open the workspace database with WAL, a busy timeout and ``Row`` rows; apply ``schema`` if given.

    WAL is switched on only when the file is not in WAL mode yet (the mode is stored in the file), so opening
    the database needs no write lock and works while another process holds one.
    """
    conn = sqlite3.connect(
        db_path(),
        timeout=_seconds(BUSY_ENV, DEFAULT_BUSY_SECONDS),
        isolation_level=None,
        check_same_thread=False,
    )
    try:
        conn.row_factory = sqlite3.Row
        if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            with_retry(lambda: conn.execute("PRAGMA journal_mode=WAL"))
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        if schema:
            with_retry(lambda: conn.executescript(schema))
    except BaseException:
        conn.close()
        raise
    return conn


def write(schema: str, sql: str, params: tuple[Any, ...] = ()) -> int:
    """Run one write statement in autocommit, retried while the database is busy; returns the row count."""
    conn = connect(schema)
    try:
        return with_retry(lambda: conn.execute(sql, params)).rowcount
    finally:
        conn.close()


@contextmanager
def transaction(schema: str = "") -> Iterator[sqlite3.Connection]:
    """A connection inside one ``BEGIN IMMEDIATE`` transaction: committed on success, rolled back on error.

    Beginning is retried while another writer holds the lock; in WAL mode that is the only point where two
    writers meet, so the statements inside do not wait.
    """
    conn = connect(schema)
    try:
        with_retry(lambda: conn.execute("BEGIN IMMEDIATE"))
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    finally:
        conn.close()
