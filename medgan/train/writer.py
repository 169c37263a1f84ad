"""Files written off the training thread: sample grids and checkpoints are encoded and saved by one
background thread while training goes on. What it writes is a CPU copy taken on the training thread, so
training may change the weights meanwhile; one write at a time, in order; errors surface at the next
call (and at :meth:`BackgroundWriter.wait`), never silently."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import torch


def cpu_copy(value: Any) -> Any:
    """``value`` with every tensor in it (dicts, lists, tuples) copied to the CPU."""
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        return {k: cpu_copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(cpu_copy(v) for v in value)
    return value


class BackgroundWriter:
    """One worker thread that runs write jobs in submission order."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None  # started by the first write, stopped by close()
        self._pending: list[Future] = []

    def submit(self, fn: Callable[[], Any]) -> None:
        """Queue ``fn()``; raises the error of an earlier write that failed."""
        self._raise_failures()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="medgan-writer")
        self._pending.append(self._pool.submit(fn))

    def _raise_failures(self) -> None:
        done = [f for f in self._pending if f.done()]
        self._pending = [f for f in self._pending if not f.done()]
        for future in done:
            future.result()

    def wait(self) -> None:
        """Block until every queued write is on disk; raises the first error."""
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()

    def close(self) -> None:
        """Finish the queued writes and stop the thread (a later write starts a new one)."""
        try:
            self.wait()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None
