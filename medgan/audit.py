"""Append-only audit log of owner actions that change state: who, what, when (SQLite ``audit_log``).

Library functions that change state (queue, cancel or resume a job, register or delete a dataset, create a
Turing study, revoke a rater) call :func:`record`, so the log is complete whether the action came from a
page or the CLI. Who acted is :func:`actor`: the app sets it per script run from the owner's browser
session (:func:`set_actor`), the CLI falls back to ``cli:<user>``. Triggers refuse every ``UPDATE`` and
``DELETE`` on the table, so rows can only be added.
"""

from __future__ import annotations

import contextvars
import getpass
import io
import json
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from medgan import db

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    who TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""

COLUMNS = ["seq", "at", "who", "action", "target", "detail"]
_ACTOR: contextvars.ContextVar[str | None] = contextvars.ContextVar("medgan_audit_actor", default=None)


def set_actor(who: str) -> None:
    """Name who acts in this thread/context from now on (the app: the owner's browser session)."""
    _ACTOR.set(who)


def actor() -> str:
    """Who is acting: the name set by :func:`set_actor`, else ``cli:<login name>``."""
    who = _ACTOR.get()
    if who:
        return who
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def record(action: str, target: str = "", **detail: Any) -> None:
    """Append one row (now, :func:`actor`, ``action``, ``target``, ``detail`` as JSON) in its own short
    transaction, after the action itself succeeded."""
    row = (
        datetime.now(UTC).isoformat(timespec="seconds"),
        actor(),
        action,
        str(target),
        json.dumps(detail, sort_keys=True, default=str),
    )
    sql = "INSERT INTO audit_log (at, who, action, target, detail) VALUES (?,?,?,?,?)"
    with db.transaction(SCHEMA) as conn:
        conn.execute(sql, row)


def entries(target_prefix: str | None = None) -> pd.DataFrame:
    """The log in order (columns :data:`COLUMNS`); only rows whose target starts with ``target_prefix``."""
    conn = db.connect(SCHEMA)
    try:
        sql = (
            "SELECT * FROM audit_log"
            + (" WHERE target LIKE ? || '%'" if target_prefix else "")
            + " ORDER BY seq"
        )
        rows = conn.execute(sql, (target_prefix,) if target_prefix else ()).fetchall()
    finally:
        conn.close()
    return pd.DataFrame([dict(r) for r in rows], columns=COLUMNS)


def entries_csv(target_prefix: str | None = None) -> str:
    """:func:`entries` as CSV text."""
    buffer = io.StringIO()
    entries(target_prefix).to_csv(buffer, index=False)
    return buffer.getvalue()
