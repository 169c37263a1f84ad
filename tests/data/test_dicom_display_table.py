"""The integer lookup-table path of DICOM display (medgan.data.dicom_display.stored_uint8) against the per-pixel one."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.pixels import apply_modality_lut

from medgan.data.dicom_display import grayscale_uint8, stored_uint8


@pytest.mark.parametrize(("dtype", "low"), [(np.int16, -1200), (np.int16, 0), (np.uint16, 0), (np.uint8, 3)])
def test_lookup_table_path_equals_the_per_pixel_path(dtype, low):
    """The integer fast path (a table over levels, indexed directly or with an offset) gives the per-pixel result."""
    view = Dataset()
    view.RescaleSlope, view.RescaleIntercept, view.PhotometricInterpretation = 1, -1024, "MONOCHROME2"
    view.BitsAllocated = view.BitsStored = 8 if dtype == np.uint8 else 16
    view.PixelRepresentation = int(dtype == np.int16)
    high = low + (250 if dtype == np.uint8 else 3000)
    arr = np.random.default_rng(2).integers(low, high, (1, 96, 96)).astype(dtype)
    out, how = stored_uint8(arr, view, (40.0, 400.0))
    expected, expected_how = grayscale_uint8(apply_modality_lut(arr, view), view, (40.0, 400.0))
    assert how == expected_how and np.array_equal(out, expected)
