"""A lock file in the run folder, held while a process trains the run, so a second worker refuses.

``flock`` on ``<run>/.lock``: the kernel drops the lock when its process dies, so a killed worker never
leaves a stale lock behind, and the holder's pid and start time in the file make the refusal readable.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from pathlib import Path
from types import TracebackType

from medgan.workspace import now_iso

LOCK_FILE = ".lock"


class RunBusy(RuntimeError):
    """Another process is training this run."""


class RunLock:
    """``with RunLock(folder):`` hold the run's lock, or raise :class:`RunBusy` naming the holder."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / LOCK_FILE
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise RunBusy(
                f"run {self.path.parent.name} is already being trained by another process "
                f"({holder}); wait for it to finish or cancel it, then resume"
            ) from None
        os.ftruncate(fd, 0)
        os.write(
            fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": now_iso()}).encode()
        )
        self._fd = fd
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _read_holder(fd: int) -> str:
    """``pid 123 on host, since 2026-01-01T00:00:00+00:00`` from the lock file (or ``unknown holder``)."""
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return f"pid {info['pid']} on {info['host']}, since {info['since']}"
    except (OSError, ValueError, KeyError):
        return "unknown holder"
