"""Decode source files into frames resized for the cache, in the caller or in a pool of workers.

Decoding (file reads, DICOM parsing, decompression, windowing, resizing) is the slow part of an import and
each file is independent. Workers are processes forked from this one when it runs a single thread (the CLI,
jobs, benchmarks): parsing is mostly Python, so processes scale where threads share one GIL, and forking
costs no start-up. Forking a multi-threaded process (the Streamlit server) is unsafe, so there the workers
are threads, which still overlap Pillow, numpy and file reads. Results come back in file order, so the
manifest does not depend on the worker count; files go to the workers a few per task (:data:`CHUNK_FILES`: less
hand-over per file) and only a few per worker are in flight, so memory stays flat. ``.npz`` files hold whole datasets and are streamed in the caller.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

from medgan.data import budget
from medgan.data.frames import Frame, UnreadableFile
from medgan.data.imageops import square_resize, to_channels_first
from medgan.data.readers import ReadOptions, reader_for, readers

UNRECOGNISED = "not a recognised image format (PNG, JPEG, TIFF, DICOM, NIfTI, .npz)"
PARALLEL_MIN_FILES = 16
MAX_WORKERS = 4
_IN_FLIGHT_PER_WORKER = 8  # files handed to a worker ahead of time
CHUNK_FILES = 4  # files per pool task
_STREAMED_SUFFIXES = (".npz",)

Decoded = tuple[Frame, int, int]  # frame with pixels resized to (C, R, R), source height, source width


def resized_frames(path: Path, options: ReadOptions, resolution: int) -> Iterator[Decoded]:
    """The frames of one file, each resized (centre crop + resize) to ``resolution``; raises on a bad file."""
    reader = reader_for(path)
    if reader is None:
        raise UnreadableFile(UNRECOGNISED)
    for frame in reader.read(path, options):
        pixels = to_channels_first(frame.pixels)
        frame.pixels = square_resize(pixels, resolution)
        yield frame, pixels.shape[1], pixels.shape[2]


def _reason(exc: Exception) -> str:
    """The skip reason a user sees: the reader's words, else the exception; no absolute server paths."""
    from medgan.failures import without_paths

    return without_paths(str(exc) if isinstance(exc, UnreadableFile) else f"{type(exc).__name__}: {exc}")


RESULT_BYTES = 16 * 1024**2  # frames one pool task may hand back; a file with more is streamed in the caller
_STREAM = "\0stream in the caller"


def read_file(path: Path, options: ReadOptions, resolution: int) -> tuple[list[Decoded], str | None]:
    """Pool task: all resized frames of one file and, when it stopped early, the reason (frames before it stay).

    A file whose frames exceed :data:`RESULT_BYTES` is not handed back (results wait in memory until the
    caller takes them): the task returns ``([], _STREAM)`` and the caller streams that file itself."""
    out: list[Decoded] = []
    held = 0
    try:
        for item in resized_frames(path, options, resolution):
            out.append(item)
            held += item[0].pixels.nbytes
            if held > RESULT_BYTES:
                return [], _STREAM
    except Exception as exc:  # one broken file must never end the import
        return out, _reason(exc)
    return out, None


def read_files(
    paths: list[Path], options: ReadOptions, resolution: int
) -> list[tuple[list[Decoded], str | None]]:
    """Pool task: :func:`read_file` of each of ``paths`` (one task per few files: less hand-over per file);
    ``.npz`` files, which hold whole datasets, come back as ``([], _STREAM)`` unread."""
    return [
        ([], _STREAM)
        if path.name.lower().endswith(_STREAMED_SUFFIXES)
        else read_file(path, options, resolution)
        for path in paths
    ]


def _can_fork() -> bool:
    """Forking is safe: this process runs a single thread, on a platform that forks."""
    return threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()


def default_workers(n_files: int) -> int:
    """Workers for ``n_files``: 1 for tiny imports, else one process per usable CPU (two threads per CPU where
    threads are used), at most ``MAX_WORKERS``."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    per_cpu = 1 if _can_fork() else 2
    return (
        1
        if n_files < PARALLEL_MIN_FILES
        else max(1, min(per_cpu * cpus, MAX_WORKERS, budget.max_decode_workers()))
    )


def _executor(workers: int) -> Executor:
    """Forked worker processes in a single-threaded process, threads otherwise (see the module docstring)."""
    if _can_fork():
        return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    return ThreadPoolExecutor(workers, thread_name_prefix="medgan-decode")


def decode_files(
    files: list[Path],
    options: ReadOptions,
    resolution: int,
    *,
    workers: int,
    on_skip: Callable[[Path, str], None],
    on_done: Callable[[Path], None],
) -> Iterator[tuple[Path, Decoded]]:
    """Yield ``(path, (frame, height, width))`` for every frame of ``files`` in order.

    ``on_skip(path, reason)`` is called for a file that failed (also after some of its frames), and
    ``on_done(path)`` once per file after its frames.
    """
    if workers <= 1:
        for path in files:
            try:
                for item in resized_frames(path, options, resolution):
                    yield path, item
            except Exception as exc:  # one broken file must never end the import
                on_skip(path, _reason(exc))
            on_done(path)
        return
    workers = min(workers, budget.max_decode_workers())  # peak memory stays within the decode budget
    readers()  # import every reader module before workers look readers up (or are forked)
    pending: deque[tuple[list[Path], Future]] = deque()
    todo = iter(files)
    with _executor(workers) as pool:

        def submit_next() -> None:
            chunk = list(itertools.islice(todo, CHUNK_FILES))
            if chunk:
                pending.append((chunk, pool.submit(read_files, chunk, options, resolution)))

        for _ in range(workers * _IN_FLIGHT_PER_WORKER // CHUNK_FILES):
            submit_next()
        try:
            while pending:
                chunk, future = pending.popleft()
                submit_next()
                for path, (frames, reason) in zip(chunk, future.result(), strict=True):
                    if reason == _STREAM:
                        yield from decode_files(
                            [path], options, resolution, workers=1, on_skip=on_skip, on_done=on_done
                        )
                        continue
                    for item in frames:
                        yield path, item
                    if reason is not None:
                        on_skip(path, reason)
                    on_done(path)
        finally:  # an import stopped early does not decode files nobody will use
            pool.shutdown(cancel_futures=True)
