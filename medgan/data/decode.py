"""Decode source files into frames resized for the cache, in the calling thread or in a pool of threads.

Decoding (file reads, decompression, windowing, resizing) is the slow part of an import and each file is
independent. Threads rather than processes: Pillow's resize, numpy and file I/O release the GIL, threads
start instantly, and nothing is pickled (worker processes measured slower on a 2-core machine). Results come
back in file order, so the manifest does not depend on the worker count, and only a few files per worker
are in flight, so memory stays flat. ``.npz`` files hold whole datasets and are streamed in the caller.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from medgan.data.frames import Frame, UnreadableFile
from medgan.data.imageops import square_resize, to_channels_first
from medgan.data.readers import ReadOptions, reader_for, readers

UNRECOGNISED = "not a recognised image format (PNG, JPEG, TIFF, DICOM, NIfTI, .npz)"
PARALLEL_MIN_FILES = 16
MAX_WORKERS = 4
_IN_FLIGHT_PER_WORKER = 8
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
    return str(exc) if isinstance(exc, UnreadableFile) else f"{type(exc).__name__}: {exc}"


def read_file(path: Path, options: ReadOptions, resolution: int) -> tuple[list[Decoded], str | None]:
    """Pool task: all resized frames of one file and, when it stopped early, the reason (frames before it stay)."""
    out: list[Decoded] = []
    try:
        for item in resized_frames(path, options, resolution):
            out.append(item)
    except Exception as exc:  # one broken file must never end the import
        return out, _reason(exc)
    return out, None


def default_workers(n_files: int) -> int:
    """Decoding threads for ``n_files``: 1 for tiny imports, else twice the usable CPUs, at most ``MAX_WORKERS``."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return 1 if n_files < PARALLEL_MIN_FILES else max(1, min(2 * cpus, MAX_WORKERS))


def decode_files(files: list[Path], options: ReadOptions, resolution: int, *, workers: int,
                 on_skip: Callable[[Path, str], None], on_done: Callable[[Path], None]) -> Iterator[tuple[Path, Decoded]]:
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
    readers()  # register every reader before threads look them up
    pending: deque[tuple[Path, Future | None]] = deque()
    todo = iter(files)
    with ThreadPoolExecutor(workers, thread_name_prefix="medgan-decode") as pool:

        def submit_next() -> None:
            path = next(todo, None)
            if path is not None:
                streamed = path.name.lower().endswith(_STREAMED_SUFFIXES)
                pending.append((path, None if streamed else pool.submit(read_file, path, options, resolution)))

        for _ in range(workers * _IN_FLIGHT_PER_WORKER):
            submit_next()
        try:
            while pending:
                path, future = pending.popleft()
                submit_next()
                if future is None:
                    yield from decode_files([path], options, resolution, workers=1, on_skip=on_skip, on_done=on_done)
                    continue
                frames, reason = future.result()
                for item in frames:
                    yield path, item
                if reason is not None:
                    on_skip(path, reason)
                on_done(path)
        finally:  # an import stopped early does not decode files nobody will use
            pool.shutdown(cancel_futures=True)
