"""Workspace settings that the lab shares (SQLite ``settings`` table): e.g. the public address of the app."""

from __future__ import annotations

from medgan import audit, db

SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

PUBLIC_BASE_URL = "public_base_url"


def get_setting(key: str, default: str | None = None) -> str | None:
    """The saved value of ``key`` (``default`` when unset)."""
    conn = db.connect(SCHEMA)
    try:
        row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    finally:
        conn.close()
    return row["value"] if row else default


def set_setting(key: str, value: str | None) -> None:
    """Save ``value`` under ``key``; ``None`` or blank removes the setting."""
    with db.transaction(SCHEMA) as conn:
        if value is None or not value.strip():
            conn.execute("DELETE FROM settings WHERE key = ?", (key,))
        else:
            conn.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value ="
                " excluded.value",
                (key, value.strip()),
            )
    audit.record("change setting", f"setting:{key}", value=(value or "").strip())
