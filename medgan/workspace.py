"""Where all state lives: one workspace folder (``MEDGAN_HOME``, default ``./workspace``).

Every write that matters goes through :func:`atomic_write_bytes` (temp file + ``os.replace``) so a killed
process leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
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
