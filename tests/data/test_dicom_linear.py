"""The numpy path of DICOM display (medgan.data.dicom_linear) against the pydicom LUT chain, bit for bit, on
pydicom's own test files and on files made here; anything but the plain linear case falls back to pydicom."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.pixels import apply_modality_lut

from medgan.data.dicom import _decode, open_dataset, read_dicom
from medgan.data.dicom_display import frame_views, grayscale_uint8, stored_uint8
from medgan.data.dicom_linear import linear_voi
from medgan.data.readers import ReadOptions


def _pydicom_chain(path: Path, window: tuple[float, float] | None) -> tuple[np.ndarray, str]:
    """The display through pydicom's functions on every pixel (the path the numpy one must equal)."""
    ds = open_dataset(path)
    view = frame_views(ds)[0]
    return grayscale_uint8(apply_modality_lut(_decode(ds), view), view, window)


def _check_equal(path: Path, window: tuple[float, float] | None) -> None:
    ds = open_dataset(path)
    assert linear_voi(ds, window) is not None  # the numpy path is the one taken
    fast, how = stored_uint8(_decode(ds), ds, window)
    expected, expected_how = _pydicom_chain(path, window)
    assert how == expected_how
    assert fast.dtype == np.uint8 and np.array_equal(fast, expected)
    frames = list(read_dicom(path, ReadOptions(window=window)))
    assert np.array_equal(np.stack([f.pixels for f in frames]), expected)


@pytest.mark.parametrize(
    ("name", "window"),
    [
        ("MR_small.dcm", None),  # signed 16-bit, header window 600/1600
        ("MR_small_bigendian.dcm", None),
        ("examples_overlay.dcm", None),  # 12-bit unsigned, two windows (the first is used)
        ("CT_small.dcm", (40.0, 400.0)),  # rescale slope/intercept, the user's window
        ("MR_small.dcm", (100.0, 1.0)),  # width 1: a threshold
        ("rtdose_1frame.dcm", (3e8, 2e9)),  # 32-bit stored values: the per-pixel path
    ],
)
def test_numpy_path_equals_pydicom_on_its_test_files(name, window):
    _check_equal(Path(get_testdata_file(name)), window)


@pytest.mark.parametrize(
    ("dtype", "low", "high", "attrs"),
    [
        (
            np.int16,
            -2000,
            3000,
            {"RescaleSlope": 1, "RescaleIntercept": -1024, "WindowCenter": 40, "WindowWidth": 400},
        ),
        (
            np.int16,
            -2000,
            3000,
            {
                "RescaleSlope": 0.37,
                "RescaleIntercept": -100.25,
                "WindowCenter": -12.5,
                "WindowWidth": 333.3,
                "VOILUTFunction": "LINEAR",
            },
        ),
        (
            np.uint16,
            0,
            4096,
            {"BitsStored": 12, "HighBit": 11, "WindowCenter": [2048, 1000], "WindowWidth": [1024, 500]},
        ),
        (
            np.uint16,
            0,
            65535,
            {"RescaleSlope": 2, "RescaleIntercept": 7, "WindowCenter": 9000, "WindowWidth": 1},
        ),
        (np.uint8, 0, 256, {"WindowCenter": 128, "WindowWidth": 100}),
    ],
)
@pytest.mark.parametrize("photometric", ["MONOCHROME2", "MONOCHROME1"])
@pytest.mark.parametrize("rows", [8, 96])  # 8 rows: every pixel mapped; 96 rows: a table over the levels
def test_numpy_path_equals_pydicom_on_made_files(
    make_dicom, tmp_path, dtype, low, high, attrs, photometric, rows
):
    stored = np.random.default_rng(1).integers(low, high, (rows, 96)).astype(dtype)
    path = make_dicom(tmp_path / "x.dcm", stored, photometric=photometric, **attrs)
    _check_equal(path, None)
    _check_equal(path, (0.0, 2000.0))
    if photometric == "MONOCHROME1":
        assert stored_uint8(_decode(open_dataset(path)), open_dataset(path), None)[1].endswith(
            "MONOCHROME1 inverted"
        )


def _lut_item(**attrs) -> Dataset:
    item = Dataset()
    item.LUTDescriptor = [4096, 0, 16]
    item.add_new("LUTData", "US", list(range(0, 65536, 16)))
    for key, value in attrs.items():
        setattr(item, key, value)
    return item


@pytest.mark.parametrize(
    "attrs",
    [
        {"VOILUTSequence": [_lut_item()]},
        {"ModalityLUTSequence": [_lut_item(ModalityLUTType="HU")]},
        {"WindowCenter": 2048, "WindowWidth": 1024, "VOILUTFunction": "SIGMOID"},
        {"WindowCenter": 2048, "WindowWidth": 1024, "VOILUTFunction": "LINEAR_EXACT"},
        # pydicom refuses it: the percentile window, with the reason
        {"WindowCenter": 2048, "WindowWidth": 0.5},
        {"WindowCenter": 2048, "WindowWidth": 1024, "PresentationLUTShape": "INVERSE"},
        {"RescaleSlope": 2},  # a slope without an intercept: pydicom decides
        {},  # no window: the percentile window
    ],
    ids=[
        "voi-lut",
        "modality-lut",
        "sigmoid",
        "linear-exact",
        "width<1",
        "presentation",
        "slope-only",
        "none",
    ],
)
def test_other_cases_fall_back_to_pydicom(make_dicom, tmp_path, attrs):
    stored = np.tile(np.linspace(0, 4095, 64).astype(np.uint16), (64, 1))
    path = make_dicom(tmp_path / "x.dcm", stored, BitsStored=12, HighBit=11, **attrs)
    ds = open_dataset(path)
    assert linear_voi(ds, None) is None
    try:
        expected = _pydicom_chain(path, None)
    except Exception as exc:  # the slope-only header: pydicom's own error, which the importer reports too
        with pytest.raises(type(exc)):
            stored_uint8(_decode(ds), ds, None)
        return
    out, how = stored_uint8(_decode(ds), ds, None)
    assert how == expected[1] and np.array_equal(out, expected[0])


def test_functional_groups_fall_back_to_pydicom():
    ds = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    group = Dataset()
    group.FrameVOILUTSequence = [Dataset()]
    group.FrameVOILUTSequence[0].WindowCenter, group.FrameVOILUTSequence[0].WindowWidth = 0, 400
    ds.SharedFunctionalGroupsSequence = [group]
    assert linear_voi(ds, None) is None
    assert linear_voi(frame_views(ds)[0], None) is not None  # each frame's own view takes the numpy path
