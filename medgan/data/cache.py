"""Decoded uint8 image caches, one ``.npy`` per resolution, written in a stream and read memory-mapped."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from medgan.data.imageops import square_resize
from medgan.workspace import temp_path_beside

_HEADER_BYTES = 256  # room reserved for the .npy header, filled in when the row count is known


class NpyStreamWriter:
    """Append (C, H, W) uint8 images one at a time to a ``.npy`` file without holding them in memory.

    The data is written after a fixed-size header slot; :meth:`close` writes the header with the final
    row count and moves the file into place atomically.
    """

    def __init__(self, path: Path, channels: int, size: int) -> None:
        self.path = Path(path)
        self.shape_tail = (channels, size, size)
        self.count = 0
        self._tmp = temp_path_beside(self.path)
        self._fh = open(self._tmp, "wb", buffering=1024**2)  # noqa: SIM115 - closed in close()/abort()
        self._fh.write(b"\0" * _HEADER_BYTES)

    def append(self, image: np.ndarray) -> None:
        """Append one image shaped like ``shape_tail``."""
        if image.shape != self.shape_tail or image.dtype != np.uint8:
            raise ValueError(f"expected uint8 {self.shape_tail}, got {image.dtype} {image.shape}")
        self._fh.write(np.ascontiguousarray(image).tobytes())
        self.count += 1

    def close(self) -> Path:
        """Write the header and move the file into place; returns the final path."""
        shape = (self.count, *self.shape_tail)
        header = "{'descr': '|u1', 'fortran_order': False, 'shape': %s, }" % (shape,)  # noqa: UP031
        body_len = _HEADER_BYTES - 10
        header_bytes = header.ljust(body_len - 1).encode("latin1") + b"\n"
        self._fh.seek(0)
        self._fh.write(b"\x93NUMPY\x01\x00" + body_len.to_bytes(2, "little") + header_bytes)
        self._fh.close()
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Drop the partial file."""
        self._fh.close()
        self._tmp.unlink(missing_ok=True)

    def widened_to_rgb(self) -> NpyStreamWriter:
        """A 3-channel writer for the same path holding the grey images written so far, each repeated over R,
        G and B (this writer is dropped): a folder whose colour images come after grey ones keeps colour."""
        if self.shape_tail[0] != 1:
            raise ValueError(f"only a 1-channel cache can be widened, this one has {self.shape_tail[0]}")
        self._fh.flush()
        wider = NpyStreamWriter(self.path, 3, self.shape_tail[1])
        size = self.shape_tail[1] * self.shape_tail[2]
        try:
            with open(self._tmp, "rb") as fh:
                fh.seek(_HEADER_BYTES)
                for _ in range(self.count):
                    grey = np.frombuffer(fh.read(size), np.uint8).reshape(1, *self.shape_tail[1:])
                    wider.append(np.repeat(grey, 3, axis=0))
        except BaseException:
            wider.abort()
            raise
        self.abort()
        return wider


def cache_path(folder: Path, resolution: int) -> Path:
    """Path of the cache at ``resolution`` inside a dataset folder."""
    return Path(folder) / f"cache_{resolution}.npy"


def open_cache(folder: Path, resolution: int, base_resolution: int) -> np.ndarray:
    """Memory-mapped (N, C, R, R) uint8 cache at ``resolution``, derived from the base cache on first use."""
    path = cache_path(folder, resolution)
    if not path.exists():
        base = np.load(cache_path(folder, base_resolution), mmap_mode="r")
        writer = NpyStreamWriter(path, base.shape[1], resolution)
        try:
            for image in base:
                writer.append(square_resize(np.asarray(image), resolution))
        except BaseException:
            writer.abort()
            raise
        writer.close()
    return np.load(path, mmap_mode="r")


def keep_rows(path: Path, keep: np.ndarray) -> None:
    """Rewrite the cache at ``path`` with only the rows where ``keep`` is True (atomically; no-op if all kept)."""
    if keep.all():
        return
    images = np.load(path, mmap_mode="r")
    writer = NpyStreamWriter(path, images.shape[1], images.shape[2])
    try:
        for row in np.flatnonzero(keep):
            writer.append(np.asarray(images[row]))
    except BaseException:
        writer.abort()
        raise
    del images
    writer.close()
