"""What a job function sees: its id, params, folder, a progress reporter and a cancel flag."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medgan.jobs import store


class JobCancelled(Exception):
    """Raised by a job function (or :meth:`JobContext.check_cancelled`) to stop after a cancel request."""


@dataclass
class JobContext:
    """Handle passed to ``fn(ctx) -> dict``. ``cancelled()`` reads the flag at most every ``poll_seconds``."""

    id: str
    params: dict[str, Any]
    folder: Path
    poll_seconds: float = 0.5
    _last_poll: float = field(default=0.0, repr=False)
    _cancelled: bool = field(default=False, repr=False)

    def progress(self, fraction: float, message: str = "") -> None:
        """Report progress (0..1) and a short status line; also a heartbeat."""
        store.set_progress(self.id, fraction, message)

    def cancelled(self) -> bool:
        """True once someone asked this job to stop."""
        now = time.monotonic()
        if not self._cancelled and now - self._last_poll >= self.poll_seconds:
            self._last_poll = now
            self._cancelled = store.cancel_requested(self.id)
        return self._cancelled

    def check_cancelled(self) -> None:
        """Raise :class:`JobCancelled` when a cancel was requested."""
        if self.cancelled():
            raise JobCancelled(f"job {self.id} was cancelled")
