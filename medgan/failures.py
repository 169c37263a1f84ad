"""Why something died, in words a user can act on: disk full, read-only workspace, out of memory, or the
exception's own text, with absolute server paths removed.

Used by the job runner (the cause goes into the job row and ``worker.log`` before the worker exits) and by
the app (a page that hits a full or read-only workspace says so instead of showing a traceback).
"""

from __future__ import annotations

import errno
import re
import sqlite3

_DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_READ_ONLY_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM}
# an absolute POSIX path of two or more parts (a lone "/" or "a/b" is left alone)
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])/(?:[^\s'\"/:,;()\[\]]+/)+([^\s'\"/:,;()\[\]]*)")

DISK_FULL = (
    "the workspace's disk is full (no space left on device); free some space or move MEDGAN_HOME "
    "to a larger disk, then resume"
)
READ_ONLY = (
    "the workspace is read-only (no permission to write); make MEDGAN_HOME writable for the app, then resume"
)
OUT_OF_MEMORY = (
    "out of memory; use smaller images, a smaller batch or fewer workers, or a machine with more memory"
)


def without_paths(text: str) -> str:
    """``text`` with every absolute path replaced by its last part (``/srv/ws/datasets/x/a.png`` -> ``a.png``)."""
    return _ABSOLUTE_PATH.sub(lambda m: m.group(1) or "<folder>", text)


def storage_problem(exc: BaseException) -> str | None:
    """:data:`DISK_FULL` or :data:`READ_ONLY` when ``exc`` (or what caused it) is one, else None."""
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, OSError) and exc.errno in _DISK_FULL_ERRNOS:
            return DISK_FULL
        if isinstance(exc, OSError) and exc.errno in _READ_ONLY_ERRNOS:
            return READ_ONLY
        if isinstance(exc, sqlite3.Error):
            text = str(exc).lower()
            if "disk is full" in text or "disk i/o error" in text:
                return DISK_FULL
            if "readonly" in text or "read-only" in text:
                return READ_ONLY
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def describe(exc: BaseException) -> str:
    """One line for a user: the storage or memory problem when it is one, else ``Type: message``; no paths."""
    if (problem := storage_problem(exc)) is not None:
        return f"{problem} ({type(exc).__name__}: {without_paths(str(exc))})"
    if isinstance(exc, MemoryError):
        return OUT_OF_MEMORY
    return without_paths(f"{type(exc).__name__}: {exc}")
