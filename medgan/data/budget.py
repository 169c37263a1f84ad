"""Pixel, byte and memory budgets that every reader checks from a file's header before it decodes anything.

A small file can claim a huge image: a 329 KB PNG of 13000 x 13000 16-bit pixels, a 1.5 MB ``.npz`` holding
one 20000 x 20000 float32 array, a 0.5 MB ``.nii.gz`` of 800^3 voxels, a ZIP of zero-filled entries. Each
reader reads the header (Pillow's size and mode, the ``.npy`` header of every ``.npz`` member, the NIfTI
header, DICOM Rows x Columns x NumberOfFrames x BitsAllocated) and calls one function here, which raises
:class:`OverBudget` naming the limit; the import reports the file as skipped and goes on.

Limits (environment variables override them):

- ``MEDGAN_MAX_FRAME_PIXELS``: pixels in one frame (default 40 M, e.g. 6300 x 6300); a file holds at most
  ``MEDGAN_MAX_FRAMES`` (200,000) frames, so it cannot fill the disk with a cache of tiny images.
- ``MEDGAN_MAX_FILE_BYTES``: decoded bytes of one file, all frames (default 160 MiB, e.g. a
  512 x 512 x 320 int16 volume).
- ``MEDGAN_ARCHIVE_RATIO``: a ZIP (or ``.npz``) may expand to this many times its own size (default 50),
  but always to at least 256 MiB, and never past the 8 GiB archive cap.
- ``MEDGAN_MEMORY_BUDGET``: memory that decoding may use above the app's baseline (default 2 GiB). Decoding
  one file at the limits peaks at about 5.5x its decoded bytes for a multi-frame 16-bit DICOM (190 MB of
  frames: 1,045 MiB above baseline; a 40 Mpx 16-bit PNG: 606 MiB, a 250 MB int16 NIfTI: 499 MiB, measured
  one file per process after a warm-up import), so :data:`PEAK_PER_WORKER` is 1 GiB and
  :func:`max_decode_workers` allows ``budget // PEAK_PER_WORKER`` parallel decoders (2 by default).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from medgan.data.dicom_header import header_value
from medgan.data.frames import UnreadableFile

MiB, GiB = 1024**2, 1024**3
DEFAULT_FRAME_PIXELS = 40_000_000
DEFAULT_MAX_FRAMES = 200_000
DEFAULT_FILE_BYTES = 160 * MiB
DEFAULT_ARCHIVE_RATIO = 50.0
ARCHIVE_FLOOR_BYTES = 256 * MiB
DEFAULT_MEMORY_BUDGET = 2 * GiB
PEAK_PER_WORKER = 1 * GiB  # decoding one file at the limits (measured worst case, see the module docstring)


class OverBudget(UnreadableFile):
    """A file whose header asks for more pixels, bytes or expansion than the budget allows."""


def _limit(env: str, default: float) -> float:
    try:
        value = float(os.environ.get(env, default))
    except ValueError:
        return default
    return value if value > 0 else default


def max_frame_pixels() -> int:
    """Pixels allowed in one frame (``MEDGAN_MAX_FRAME_PIXELS``)."""
    return int(_limit("MEDGAN_MAX_FRAME_PIXELS", DEFAULT_FRAME_PIXELS))


def max_frames() -> int:
    """Frames allowed in one file (``MEDGAN_MAX_FRAMES``)."""
    return int(_limit("MEDGAN_MAX_FRAMES", DEFAULT_MAX_FRAMES))


def max_file_bytes() -> int:
    """Decoded bytes allowed for one file (``MEDGAN_MAX_FILE_BYTES``)."""
    return int(_limit("MEDGAN_MAX_FILE_BYTES", DEFAULT_FILE_BYTES))


def memory_budget() -> int:
    """Bytes decoding may use above the app's baseline (``MEDGAN_MEMORY_BUDGET``)."""
    return int(_limit("MEDGAN_MEMORY_BUDGET", DEFAULT_MEMORY_BUDGET))


def _mpx(n: float) -> str:
    return f"{n / 1e6:.1f} Mpx"


def _mib(n: float) -> str:
    return f"{n / MiB:,.0f} MiB" if n >= MiB else f"{n / 1024:,.0f} KiB"


def check_image(
    width: int, height: int, bytes_per_pixel: float, frames: int = 1, what: str = "image"
) -> None:
    """Refuse a frame over the pixel limit or a file whose frames decode to more than the byte limit."""
    pixels = int(width) * int(height)
    if int(frames) > max_frames():
        raise OverBudget(
            f"{what} holds {int(frames):,} frames, over the limit of {max_frames():,} per file "
            "(MEDGAN_MAX_FRAMES); not decoded"
        )
    if pixels > max_frame_pixels():
        raise OverBudget(
            f"{what} is {width} x {height} = {_mpx(pixels)} per frame, over the limit of "
            f"{_mpx(max_frame_pixels())} (MEDGAN_MAX_FRAME_PIXELS); not decoded"
        )
    total = pixels * max(int(frames), 1) * float(bytes_per_pixel)
    if total > max_file_bytes():
        raise OverBudget(
            f"{what} decodes to {_mib(total)} ({max(int(frames), 1)} frame(s) of {width} x {height}, "
            f"{bytes_per_pixel:g} bytes per pixel), over the limit of {_mib(max_file_bytes())} per file "
            "(MEDGAN_MAX_FILE_BYTES); not decoded"
        )


def check_array(shape: Sequence[int], dtype: np.dtype, frame_axes: tuple[int, int], what: str) -> None:
    """An array from a header (``.npy`` member, NIfTI volume): frames are the planes over ``frame_axes``."""
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise OverBudget(f"{what} has a negative dimension {shape}; not decoded")
    if len(shape) < 2:
        raise OverBudget(f"{what} of shape {shape} is not an image; not decoded")
    height, width = shape[frame_axes[0]], shape[frame_axes[1]]
    frames = int(np.prod(shape, dtype=np.float64) / max(height * width, 1))
    check_image(width, height, np.dtype(dtype).itemsize, frames, what)


def check_npy_rows(shape: Sequence[int], dtype: np.dtype, what: str) -> None:
    """A streamed ``.npy`` image stack (N, H, W[, C]): one row is in memory at a time, so a row is checked
    against the byte limit, the row count against the frame limit (the archive's expansion separately)."""
    shape = tuple(int(s) for s in shape)
    if len(shape) < 3:
        raise OverBudget(f"{what} of shape {shape} is not a stack of images; not decoded")
    channels = int(np.prod(shape[3:], dtype=np.int64)) if len(shape) > 3 else 1
    check_image(shape[2], shape[1], np.dtype(dtype).itemsize * channels, 1, f"{what} row")
    if shape[0] > max_frames():
        raise OverBudget(
            f"{what} holds {shape[0]:,} images, over the limit of {max_frames():,} per file "
            "(MEDGAN_MAX_FRAMES); not decoded"
        )


def pillow_bytes_per_pixel(mode: str) -> float:
    """Bytes per pixel of a Pillow mode as decoded: 16-bit 2, 32-bit ``I``/``F`` 4, palette 3 (it becomes
    RGB), else one per band."""
    from PIL import Image

    if mode.startswith("I;16"):
        return 2.0
    return {"I": 4.0, "F": 4.0, "P": 3.0, "PA": 4.0}.get(mode, float(Image.getmodebands(mode)))


def check_nifti(header, axis: int, what: str = "volume") -> None:
    """A NIfTI header: planes across ``axis`` are frames; scaled data (slope/intercept) decodes to float64."""
    shape = tuple(int(s) for s in header.get_data_shape()) or (0,)
    slope, inter = header.get_slope_inter()
    scaled = slope not in (None, 1.0) or inter not in (None, 0.0)
    dtype = np.dtype(np.float64) if scaled else header.get_data_dtype()
    plane = [a for a in (0, 1, 2) if a != axis and a < len(shape)]
    if len(shape) < 2 or len(plane) < 2:
        check_array(shape + (1,) * (3 - len(shape)), dtype, (0, 1), what)
        return
    check_array(shape, dtype, (plane[0], plane[1]), what)


def check_dicom(ds) -> None:
    """DICOM Rows x Columns x NumberOfFrames x SamplesPerPixel x BitsAllocated, before the pixels decode."""
    try:
        rows, cols = int(header_value(ds, "Rows") or 0), int(header_value(ds, "Columns") or 0)
        frames = int(header_value(ds, "NumberOfFrames") or 1)
        samples = int(header_value(ds, "SamplesPerPixel") or 1)
        bits = int(header_value(ds, "BitsAllocated") or 8)
    except (TypeError, ValueError) as exc:
        raise OverBudget(f"image size fields are not numbers ({exc}); not decoded") from exc
    check_image(cols, rows, samples * max(bits, 8) / 8, frames, "DICOM image")


def check_file_size(path, limit_bytes: int | None = None) -> None:
    """Refuse a file larger on disk than the per-file byte limit (plus 1 MiB of header) before reading it."""
    size = os.stat(path).st_size
    allowed = (limit_bytes or max_file_bytes()) + MiB
    if size > allowed:
        raise OverBudget(
            f"file is {_mib(size)}, over the limit of {_mib(allowed)} (MEDGAN_MAX_FILE_BYTES); not read"
        )


def archive_budget(compressed_bytes: int, cap: int) -> int:
    """Bytes a ZIP of ``compressed_bytes`` may expand to: ``MEDGAN_ARCHIVE_RATIO`` x its size, at least
    256 MiB, at most ``cap``."""
    ratio = _limit("MEDGAN_ARCHIVE_RATIO", DEFAULT_ARCHIVE_RATIO)
    return int(min(cap, max(ARCHIVE_FLOOR_BYTES, ratio * compressed_bytes)))


def check_expansion(name: str, expanded: int, compressed_bytes: int, cap: int) -> None:
    """Refuse an archive whose entries expand past :func:`archive_budget`."""
    allowed = archive_budget(compressed_bytes, cap)
    if expanded > allowed:
        raise OverBudget(
            f"{name} expands to {_mib(expanded)} from {_mib(compressed_bytes)}, over the limit of "
            f"{_mib(allowed)} for an archive of that size (MEDGAN_ARCHIVE_RATIO); refused"
        )


def max_decode_workers() -> int:
    """Parallel decoders that keep peak memory within :func:`memory_budget` (each may peak at
    :data:`PEAK_PER_WORKER`)."""
    return max(1, memory_budget() // PEAK_PER_WORKER)
