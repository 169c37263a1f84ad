"""Registry of file readers, looked up by extension or by sniffing the file's first bytes.

A reader is a function ``(path, options) -> Iterator[Frame]`` registered with :func:`register_reader`;
it raises :class:`~medgan.data.frames.UnreadableFile` with a reason when it cannot decode a file.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from medgan.data.frames import Frame

READER_MODULES = ("medgan.data.raster", "medgan.data.dicom", "medgan.data.npz", "medgan.data.nifti")


@dataclass
class ReadOptions:
    """Choices that change how files decode.

    window: (center, width) forced on every DICOM (user override); ``None`` uses the header, then percentiles.
    multiframe: ``"frames"`` (each frame an image) or ``"stack"`` (frames as channels, 2.5D).
    stack_depth: channels per 2.5D stack (multi-frame DICOM / NIfTI slabs).
    nifti_axis: axis NIfTI volumes are sliced along.
    label_tag: DICOM keyword whose value becomes the label (``--labels tag:KEYWORD``).
    """

    window: tuple[float, float] | None = None
    multiframe: str = "frames"
    stack_depth: int = 3
    nifti_axis: int = 2
    label_tag: str | None = None

    def __post_init__(self) -> None:
        if self.multiframe not in ("frames", "stack"):
            raise ValueError(f"multiframe must be 'frames' or 'stack', got {self.multiframe!r}")
        if self.multiframe == "stack" and self.stack_depth < 2:
            raise ValueError(
                f"a 2.5D stack needs at least 2 frames (stack depth {self.stack_depth}); "
                "use multiframe 'frames' for single slices"
            )


ReadFn = Callable[[Path, ReadOptions], Iterator[Frame]]


@dataclass(frozen=True)
class Reader:
    """A registered reader: name, file extensions it claims, optional content sniffer, read function."""

    name: str
    extensions: tuple[str, ...]
    sniff: Callable[[Path], bool] | None
    read: ReadFn


_READERS: dict[str, Reader] = {}


def register_reader(
    name: str, extensions: tuple[str, ...] = (), sniff: Callable[[Path], bool] | None = None
) -> Callable[[ReadFn], ReadFn]:
    """Decorator that registers a read function under ``name``."""

    def wrap(fn: ReadFn) -> ReadFn:
        _READERS[name] = Reader(name, tuple(e.lower() for e in extensions), sniff, fn)
        return fn

    return wrap


def readers() -> dict[str, Reader]:
    """All registered readers (imports every reader module; a reader module imported on its own is not enough)."""
    for module in READER_MODULES:
        if module not in sys.modules:  # a look-up, not importlib's machinery, once per file read
            importlib.import_module(module)
    return dict(_READERS)


def reader_for(path: Path) -> Reader | None:
    """The reader for ``path``: by its (double) extension first, then by sniffing its content."""
    name = path.name.lower()
    all_readers = readers()
    for reader in all_readers.values():
        if any(name.endswith(ext) for ext in reader.extensions):
            return reader
    for reader in all_readers.values():
        if reader.sniff is not None and reader.sniff(path):
            return reader
    return None
