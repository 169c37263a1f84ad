"""Where all state lives: one workspace folder (``MEDGAN_HOME``, default ``./workspace``).

Every write that matters goes through :func:`atomic_write_bytes` (temp file + ``os.replace``) so a killed
process leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


def home() -> Path:
    """The workspace folder, created on first use."""
    path = Path(os.environ.get("MEDGAN_HOME", "workspace")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def subdir(*parts: str) -> Path:
    """A folder under the workspace (``datasets/<id>``, ``runs/<id>``, ``exports``), created on first use."""
    path = home().joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def now_iso() -> str:
    """The current UTC time as ISO 8601 with seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def atomic_write_bytes(path: Path, data: bytes, durable: bool = True) -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder and ``os.replace``.

    ``durable=False`` skips the fsync: still atomic (old or new file, never half), but a power cut may
    lose the latest version; for files rewritten every few seconds such as status.json.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str, durable: bool = True) -> None:
    """Atomic text write (UTF-8)."""
    atomic_write_bytes(path, text.encode("utf-8"), durable)


def atomic_write_json(path: Path, obj: Any, durable: bool = True) -> None:
    """Atomic JSON write, indented for people who open the file."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str), durable)


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file's bytes (``sha256``, ``sha1``, ``md5``...), read in 1 MiB chunks."""
    digest = hashlib.new(algorithm, usedforsecurity=False)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def temp_path_beside(path: Path) -> Path:
    """A fresh temp file name next to ``path`` for writers that stream (then ``os.replace`` it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    return Path(tmp)


RESERVE_FILE = ".space-reserve"
RESERVE_BYTES = 4 * 1024**2
STALE_TEMP_SECONDS = 3600.0


def keep_reserve() -> None:
    """Keep a 4 MiB file in the workspace that :func:`release_reserve` deletes when the disk is full, so a
    worker that hits "no space left" still has room to record why it stopped."""
    path = home() / RESERVE_FILE
    if path.exists():
        return
    try:
        with open(path, "wb") as fh:
            fh.write(bytes(RESERVE_BYTES))
    except OSError:
        path.unlink(missing_ok=True)  # no room for it now: nothing to release later


def release_reserve() -> None:
    """Free the reserve kept by :func:`keep_reserve`."""
    (home() / RESERVE_FILE).unlink(missing_ok=True)


def remove_stale_temp(folder: Path, prefix: str = ".", older_than: float = STALE_TEMP_SECONDS) -> int:
    """Delete ``<prefix>*.tmp`` files in ``folder`` (left by writers that were killed mid-write) older than
    ``older_than`` seconds; returns how many were removed."""
    cutoff, removed = time.time() - older_than, 0
    for path in Path(folder).glob(f"{glob.escape(prefix)}*.tmp"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:
            continue  # removed meanwhile, or not ours to remove
    return removed


def remove_stale_temp_files(older_than: float = STALE_TEMP_SECONDS) -> int:
    """:func:`remove_stale_temp` over the workspace folders that atomic writes use (the workspace itself,
    ``exports``, each dataset, each run and its sub-folders); returns how many were removed."""
    root = home()
    folders = [
        root,
        root / "exports",
        *root.glob("datasets/*"),
        *root.glob("runs/*"),
        *root.glob("runs/*/*"),
        *root.glob("jobs/*"),
    ]
    return sum(remove_stale_temp(f, older_than=older_than) for f in folders if f.is_dir())


def allowed_data_roots() -> list[Path]:
    """Server folders the Data page may read from: ``MEDGAN_DATA_ROOTS`` (``os.pathsep``-separated).

    Defaults to the workspace's ``imports`` folder, so a deployed app cannot be made to read arbitrary files.
    """
    raw = os.environ.get("MEDGAN_DATA_ROOTS", "")
    roots = [Path(p).expanduser().resolve() for p in raw.split(os.pathsep) if p.strip()]
    return roots or [subdir("imports")]


def is_under_allowed_root(path: Path) -> bool:
    """True when ``path`` (resolved, symlinks followed) lies inside one of :func:`allowed_data_roots`."""
    resolved = Path(path).expanduser().resolve()
    return any(resolved == root or root in resolved.parents for root in allowed_data_roots())
