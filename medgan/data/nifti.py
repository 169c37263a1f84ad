"""NIfTI volumes (``.nii``, ``.nii.gz``) through nibabel, as 2D slices or 2.5D stacks of adjacent slices.

The volume is reoriented to the closest RAS+ orientation first, so ``nifti_axis`` 0/1/2 means
sagittal/coronal/axial whatever the file's storage order, and each slice is rotated so anterior or
superior is up. One intensity window is used for the whole volume (the user's, else 0.5-99.5 percentiles
of the volume), so slices of one volume stay comparable. 4D files give the slices of every volume.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import nibabel as nib
import numpy as np

from medgan.data import budget
from medgan.data.dicom import frame_stacks
from medgan.data.dicom_display import window_from_range
from medgan.data.frames import Frame, UnreadableFile
from medgan.data.imageops import window_to_uint8
from medgan.data.readers import ReadOptions, register_reader

_SAMPLE = 2_000_000  # voxels used to estimate the percentile window


def _volume_window(volume: np.ndarray) -> tuple[float, float]:
    """(center, width) of a 0.5-99.5 percentile window over (a strided sample of) the volume."""
    flat = volume.reshape(-1)
    sample = flat[:: max(1, flat.size // _SAMPLE)].astype(np.float32)
    sample = sample[np.isfinite(sample)]
    if sample.size == 0:
        return 0.0, 1.0
    lo, hi = np.percentile(sample, [0.5, 99.5])
    if hi <= lo:
        lo, hi = float(sample.min()), float(sample.max())
    return window_from_range(lo, hi)


def _slices(volume: np.ndarray, axis: int, window: tuple[float, float]) -> np.ndarray:
    """(S, H, W) uint8 slices of a 3D volume along ``axis``, rotated for display."""
    moved = np.moveaxis(volume, axis, 0)
    return np.stack([np.rot90(window_to_uint8(np.nan_to_num(s), *window)) for s in moved])


@register_reader("nifti", extensions=(".nii", ".nii.gz"))
def read_nifti(path: Path, options: ReadOptions) -> Iterator[Frame]:
    """Yield the slices (or ``stack_depth``-slice stacks) of a NIfTI volume along ``options.nifti_axis``."""
    try:
        loaded = nib.load(path)
    except Exception as exc:  # nibabel raises many types for broken headers and truncated gzip streams
        raise UnreadableFile(f"not a readable NIfTI volume ({type(exc).__name__}: {exc})") from exc
    budget.check_nifti(loaded.header, options.nifti_axis)  # before reorienting, which reads the voxels
    try:
        img = nib.as_closest_canonical(loaded)
        data = np.asanyarray(img.dataobj)
    except Exception as exc:  # nibabel raises many types for broken headers and truncated gzip streams
        raise UnreadableFile(f"not a readable NIfTI volume ({type(exc).__name__}: {exc})") from exc
    if data.ndim == 2:
        data = data[..., None]
    if data.ndim not in (3, 4) or not 0 <= options.nifti_axis <= 2:
        raise UnreadableFile(f"volume shaped {data.shape} cannot be sliced along axis {options.nifti_axis}")
    if np.iscomplexobj(data) or data.dtype.fields is not None:
        raise UnreadableFile(f"voxel type {data.dtype} is not a plain number")
    window = options.window or _volume_window(data)
    volumes = [data] if data.ndim == 3 else [data[..., t] for t in range(data.shape[3])]
    n_slices = data.shape[options.nifti_axis]
    for t, volume in enumerate(volumes):
        slices = _slices(volume, options.nifti_axis, window)
        items = (
            frame_stacks(slices, options.stack_depth) if options.multiframe == "stack" else enumerate(slices)
        )
        for index, pixels in items:
            yield Frame(
                pixels=pixels,
                source=str(path),
                frame=t * n_slices + index,
                meta={"axis": str(options.nifti_axis), "slice": str(index), "volume": str(t)},
            )
