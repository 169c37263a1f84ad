"""Header values read from raw elements (medgan.data.dicom_header) against pydicom's own conversion."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.data import get_charset_files, get_testdata_file

from medgan.data.dicom_header import header_value

KEYWORDS = (
    "Rows",
    "Columns",
    "BitsAllocated",
    "BitsStored",
    "PixelRepresentation",
    "SamplesPerPixel",
    "NumberOfFrames",
    "PhotometricInterpretation",
    "RescaleSlope",
    "RescaleIntercept",
    "WindowCenter",
    "WindowWidth",
    "VOILUTFunction",
    "Modality",
    "SOPClassUID",
    "PatientID",
    "SmallestImagePixelValue",
    "PatientName",
)
FILES = (
    "CT_small.dcm",  # explicit VR little endian, rescale
    "MR_small_implicit.dcm",  # implicit VR: VRs from the dictionary
    "MR_small_bigendian.dcm",  # big endian: pydicom decides
    "examples_overlay.dcm",  # two window values: pydicom decides
    "rtdose_1frame.dcm",
    "JPEG2000.dcm",
    "SC_rgb_small_odd.dcm",
    "examples_rgb_color.dcm",
)


CHARSET_FILES = ("chrJapMulti.dcm", "chrRuss.dcm", "chrH31.dcm")  # names in other character sets


@pytest.mark.parametrize(
    "path", [get_testdata_file(n) for n in FILES] + [get_charset_files(n)[0] for n in CHARSET_FILES]
)
def test_header_value_equals_pydicom(path):
    raw = pydicom.dcmread(path)  # never converted: header_value reads the raw elements
    converted = pydicom.dcmread(path)
    for keyword in KEYWORDS:
        expected = converted[keyword].value if keyword in converted else None
        value = header_value(raw, keyword)
        assert value == expected and type(value) in (type(expected), float, int, str), (
            keyword,
            value,
            expected,
        )


def test_header_value_default_and_made_values(make_dicom, tmp_path):
    path = make_dicom(
        tmp_path / "x.dcm",
        np.zeros((4, 4), np.int16),
        RescaleSlope="0.25",
        RescaleIntercept=" -1024",
        WindowCenter="40",
        WindowWidth="400.5",
        PatientID="P 7 ",
    )
    ds = pydicom.dcmread(path)
    assert header_value(ds, "RescaleSlope") == 0.25 and header_value(ds, "RescaleIntercept") == -1024.0
    assert header_value(ds, "WindowWidth") == 400.5 and header_value(ds, "PatientID") == "P 7"
    assert header_value(ds, "NumberOfFrames") is None and header_value(ds, "NumberOfFrames", 1) == 1
    assert header_value(ds, "PatientID") == pydicom.dcmread(path).PatientID
