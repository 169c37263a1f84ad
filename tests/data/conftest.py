"""Fixtures for the data tests: DICOM files written with pydicom."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid


def write_dicom(
    path: Path,
    pixels: np.ndarray,
    *,
    photometric: str = "MONOCHROME2",
    preamble: bool = True,
    compress: str | None = None,
    **attrs,
) -> Path:
    """Write ``pixels`` ((H, W), (F, H, W) or (H, W, 3)) as a DICOM file with header ``attrs``."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.Modality = "CT"
    ds.PatientID = "P0"
    bits = 8 if pixels.dtype == np.uint8 else 16
    ds.set_pixel_data(pixels, photometric, bits)
    if pixels.ndim == 3 and photometric.startswith("MONO"):
        ds.NumberOfFrames = pixels.shape[0]
    for key, value in attrs.items():
        setattr(ds, key, value)
    if compress is not None:
        ds.compress(compress)
    path.parent.mkdir(parents=True, exist_ok=True)
    if preamble:
        ds.save_as(path, enforce_file_format=True)
    else:
        ds.save_as(path, implicit_vr=False, little_endian=True)
    return path


@pytest.fixture
def ct_values() -> np.ndarray:
    """A 32x48 int16 image: a ramp of stored values 0..1535 along the columns."""
    return np.tile((np.arange(48) * 32).astype(np.int16), (32, 1))


@pytest.fixture
def make_dicom():
    """The :func:`write_dicom` helper."""
    return write_dicom
