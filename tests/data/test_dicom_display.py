"""DICOM display against pydicom's own LUT functions: SIGMOID, INVERSE, functional groups, width 1, bit depths,
palettes, segmentation objects and truncated files."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.pixels import (
    apply_color_lut,
    apply_modality_lut,
    apply_presentation_lut,
    apply_voi_lut,
    apply_windowing,
    pack_bits,
)

from medgan.data.dicom import read_dicom
from medgan.data.frames import UnreadableFile
from medgan.data.readers import ReadOptions


def _read(path: Path, **options):
    return list(read_dicom(path, ReadOptions(**options)))


def _pydicom_display(path: Path, view: Dataset | None = None, frame: int | None = None) -> np.ndarray:
    """The reference: pydicom's modality LUT and VOI on the stored pixels, its output range scaled to 0-255."""
    ds = pydicom.dcmread(path)
    arr = ds.pixel_array if frame is None else ds.pixel_array[frame]
    view = view or ds
    values = apply_voi_lut(apply_modality_lut(arr, view), copy.copy(view))
    with np.errstate(over="ignore"):
        lo, hi = apply_windowing(np.array([-np.inf, np.inf]), copy.copy(view))
    return np.floor(np.clip((values - lo) / (hi - lo) * 255 + 0.5, 0, 255)).astype(np.uint8)


def _mammo(make_dicom, tmp_path, name="mg.dcm", rows=8, **attrs) -> Path:
    """12-bit stored ramp 0..4095 (unsigned), as in mammography (64 rows and more take the lookup-table path)."""
    stored = np.tile(np.linspace(0, 4095, 64).astype(np.uint16), (rows, 1))
    return make_dicom(tmp_path / name, stored, BitsStored=12, HighBit=11, **attrs)


@pytest.mark.parametrize("rows", [8, 64])
def test_sigmoid_window_matches_pydicom(make_dicom, tmp_path, rows):
    path = _mammo(
        make_dicom, tmp_path, rows=rows, WindowCenter=2048, WindowWidth=1024, VOILUTFunction="SIGMOID"
    )
    frame = _read(path)[0]
    assert np.array_equal(frame.pixels, _pydicom_display(path))
    assert frame.meta["Intensity"] == "window 2048/1024 SIGMOID (header)"
    row = frame.pixels[0].astype(int)
    assert 0 < row[20] < row[32] < row[44] < 255  # smooth, not a clipped line
    linear = _read(_mammo(make_dicom, tmp_path, "lin.dcm", rows, WindowCenter=2048, WindowWidth=1024))[
        0
    ].pixels
    assert not np.array_equal(frame.pixels, linear)


def test_sigmoid_after_rescale_matches_pydicom(make_dicom, tmp_path):
    stored = np.tile((np.arange(64) * 24).astype(np.int16), (4, 1))
    path = make_dicom(
        tmp_path / "ct.dcm",
        stored,
        RescaleSlope=1,
        RescaleIntercept=-1024,
        WindowCenter=40,
        WindowWidth=400,
        VOILUTFunction="SIGMOID",
    )
    assert np.array_equal(_read(path)[0].pixels, _pydicom_display(path))


def test_inverse_presentation_lut(make_dicom, tmp_path):
    window = {"WindowCenter": 2048, "WindowWidth": 2048}
    plain = _mammo(make_dicom, tmp_path, "plain.dcm", **window)
    inverse = _mammo(make_dicom, tmp_path, "inv.dcm", PresentationLUTShape="INVERSE", **window)
    frame = _read(inverse)[0]
    reference = apply_presentation_lut(_pydicom_display(plain), pydicom.dcmread(inverse))
    assert np.array_equal(frame.pixels, reference) and np.array_equal(
        frame.pixels, 255 - _read(plain)[0].pixels
    )
    assert frame.meta["Intensity"].endswith(", INVERSE")
    # MONOCHROME1 with INVERSE (as DX requires) is inverted once; with IDENTITY its values are P-values already
    mono1 = _mammo(
        make_dicom, tmp_path, "m1.dcm", photometric="MONOCHROME1", PresentationLUTShape="INVERSE", **window
    )
    assert np.array_equal(_read(mono1)[0].pixels, frame.pixels)
    identity = _mammo(
        make_dicom, tmp_path, "id.dcm", photometric="MONOCHROME1", PresentationLUTShape="IDENTITY", **window
    )
    assert np.array_equal(_read(identity)[0].pixels, _read(plain)[0].pixels)


def _item(**attrs) -> Dataset:
    item = Dataset()
    for key, value in attrs.items():
        setattr(item, key, value)
    return item


def test_enhanced_multiframe_functional_groups(make_dicom, tmp_path):
    stored = np.stack([np.tile((np.arange(64) * 16).astype(np.uint16), (4, 1))] * 3)
    shared = _item(
        PixelValueTransformationSequence=[_item(RescaleSlope=2, RescaleIntercept=-1000, RescaleType="HU")],
        FrameVOILUTSequence=[_item(WindowCenter=0, WindowWidth=400)],
    )
    per_frame = [
        Dataset(),  # frame 0: all shared
        _item(FrameVOILUTSequence=[_item(WindowCenter=-200, WindowWidth=300, VOILUTFunction="SIGMOID")]),
        _item(
            PixelValueTransformationSequence=[_item(RescaleSlope=1, RescaleIntercept=0, RescaleType="US")],
            FrameVOILUTSequence=[_item(WindowCenter=500, WindowWidth=1)],
        ),
    ]  # own rescale, width 1
    path = make_dicom(
        tmp_path / "enh.dcm",
        stored,
        BitsStored=12,
        HighBit=11,
        SharedFunctionalGroupsSequence=[shared],
        PerFrameFunctionalGroupsSequence=per_frame,
    )
    frames = _read(path)
    flat = [
        dict(RescaleSlope=2, RescaleIntercept=-1000, WindowCenter=0, WindowWidth=400),
        dict(
            RescaleSlope=2,
            RescaleIntercept=-1000,
            WindowCenter=-200,
            WindowWidth=300,
            VOILUTFunction="SIGMOID",
        ),
        dict(RescaleSlope=1, RescaleIntercept=0, WindowCenter=500, WindowWidth=1),
    ]
    for index, attrs in enumerate(flat):
        view = _item(PhotometricInterpretation="MONOCHROME2", BitsStored=12, PixelRepresentation=0, **attrs)
        assert np.array_equal(frames[index].pixels, _pydicom_display(path, view, index)), index
    assert set(np.unique(frames[2].pixels)) == {0, 255}  # width 1: a threshold
    assert "per frame (functional groups)" in frames[0].meta["Intensity"]


def test_width_one_is_a_threshold_and_degenerate_widths_fall_back(make_dicom, tmp_path):
    path = _mammo(make_dicom, tmp_path, WindowCenter=1000, WindowWidth=1)
    pixels = _read(path)[0].pixels
    assert np.array_equal(pixels, _pydicom_display(path)) and set(np.unique(pixels)) == {0, 255}
    user = _read(_mammo(make_dicom, tmp_path, "u.dcm"), window=(1000, 1))[0].pixels  # a user's width 1 too
    assert np.array_equal(user, pixels)
    zero = _read(_mammo(make_dicom, tmp_path, "z.dcm", WindowCenter=1000, WindowWidth=0))[0]
    assert "unusable" in zero.meta["Intensity"] and zero.pixels.min() == 0 and zero.pixels.max() == 255


def test_low_bit_depths_scale_by_bits_stored(make_dicom, tmp_path):
    mask = (np.arange(64).reshape(8, 8) % 3 == 0).astype(np.uint8)
    stored_1 = make_dicom(tmp_path / "b1.dcm", mask, BitsStored=1, HighBit=0)  # 8 allocated, 1 stored
    assert set(np.unique(_read(stored_1)[0].pixels)) == {0, 255}
    packed = make_dicom(tmp_path / "p1.dcm", mask)
    ds = pydicom.dcmread(packed)
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelData = 1, 1, 0, pack_bits(mask)
    ds.save_as(packed)
    assert np.array_equal(_read(packed)[0].pixels, mask * 255)
    six = make_dicom(tmp_path / "b6.dcm", (mask * 63).astype(np.uint8), BitsStored=6, HighBit=5)
    assert np.array_equal(_read(six)[0].pixels, mask * 255)


def test_segmentation_objects_are_skipped_with_a_reason():
    with pytest.raises(UnreadableFile, match="segmentation object"):
        _read(Path(get_testdata_file("liver_1frame.dcm")))


def _palette_file(make_dicom, tmp_path, bits: int) -> Path:
    index = np.tile(np.arange(256, dtype=np.uint8), (4, 1))
    path = make_dicom(tmp_path / f"pal{bits}.dcm", index)
    ds = pydicom.dcmread(path)
    ds.PhotometricInterpretation = "PALETTE COLOR"
    ramp = np.arange(256)
    scale = 257 if bits == 16 else 1
    for colour, values in (("Red", ramp), ("Green", 255 - ramp), ("Blue", ramp // 2)):
        ds[f"{colour}PaletteColorLookupTableDescriptor"] = pydicom.DataElement(
            f"{colour}PaletteColorLookupTableDescriptor", "US", [256, 0, bits]
        )
        data = (values * scale).astype(np.uint16 if bits == 16 else np.uint8).tobytes()
        setattr(ds, f"{colour}PaletteColorLookupTableData", data)
    ds.save_as(path)
    return path


@pytest.mark.parametrize("bits", [8, 16])
def test_palette_colours_scale_by_lut_depth(make_dicom, tmp_path, bits):
    path = _palette_file(make_dicom, tmp_path, bits)
    pixels = _read(path)[0].pixels  # (3, H, W)
    lut = apply_color_lut(pydicom.dcmread(path).pixel_array, pydicom.dcmread(path)).astype(float)
    expected = np.floor(lut / (2**bits - 1) * 255 + 0.5).astype(np.uint8)
    assert np.array_equal(np.moveaxis(pixels, 0, -1), expected)
    assert (
        pixels[0, 0, 255] == 255 and pixels[1, 0, 255] == 0 and pixels[2, 0, 255] == 127
    )  # LUT colours kept


def test_bundled_16bit_palette_scales_by_lut_range():
    path = Path(get_testdata_file("examples_palette.dcm"))  # 16-bit LUT entries
    ds = pydicom.dcmread(path)
    expected = np.floor(apply_color_lut(ds.pixel_array, ds) / 65535 * 255 + 0.5).astype(np.uint8)
    assert np.array_equal(np.moveaxis(_read(path)[0].pixels, 0, -1), expected)


def test_ybr_422_uncompressed_is_not_mistaken_for_truncated():
    path = Path(get_testdata_file("SC_ybr_full_422_uncompressed.dcm"))
    assert np.array_equal(np.moveaxis(_read(path)[0].pixels, 0, -1), pydicom.dcmread(path).pixel_array)


def test_truncated_files_say_truncated(tmp_path):
    with pytest.raises(UnreadableFile, match="truncated.*8130 bytes"):
        _read(Path(get_testdata_file("MR_truncated.dcm")))
    data = Path(get_testdata_file("CT_small.dcm")).read_bytes()
    for cut in (1000, len(data) // 2):
        (tmp_path / "cut.dcm").write_bytes(data[:cut])
        with pytest.raises(UnreadableFile, match="truncated"):
            _read(tmp_path / "cut.dcm")


def test_16bit_rgb_scales_by_bits_stored(make_dicom, tmp_path):
    rgb = np.zeros((4, 4, 3), np.uint16)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 4095, 2048, 0
    path = make_dicom(tmp_path / "rgb16.dcm", rgb, photometric="RGB", BitsStored=12, HighBit=11)
    pixels = _read(path)[0].pixels
    assert pixels.shape == (3, 4, 4) and pixels[:, 0, 0].tolist() == [255, 128, 0]
