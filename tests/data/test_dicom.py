"""DICOM reader: LUTs and windows, MONOCHROME1, multi-frame, compressed syntaxes, sniffing, header, ingestion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.uid import JPEG2000Lossless, RLELossless

from medgan.data.dicom import (
    CT_WINDOW_PRESETS,
    _decode,
    _native_pixels,
    check_keyword,
    header_table,
    is_dicom,
    open_dataset,
    parse_window,
    read_dicom,
    window_previews,
)
from medgan.data.frames import UnreadableFile
from medgan.data.ingest import ingest
from medgan.data.readers import ReadOptions, reader_for
from medgan.data.store import load_images, load_manifest


def _read(path: Path, **options) -> list:
    return list(read_dicom(path, ReadOptions(**options)))


def _ct(make_dicom, tmp_path, name="ct.dcm", **attrs) -> Path:
    """Stored values col*16 with slope 2, intercept -1024: HU = 32*col - 1024, columns 0..47."""
    stored = np.tile((np.arange(48) * 16).astype(np.int16), (32, 1))
    return make_dicom(tmp_path / name, stored, RescaleSlope=2, RescaleIntercept=-1024, **attrs)


def test_rescale_then_header_window(make_dicom, tmp_path):
    frame = _read(_ct(make_dicom, tmp_path, WindowCenter=40, WindowWidth=400))[0]
    row = frame.pixels[0].astype(int)
    # Window 40/400 spans HU -160..239: below -> 0, above -> 255; HU 32 (column 33) -> (32+160)/399*255+0.5 = 123
    assert row[:27].max() == 0 and row[41:].min() == 255
    assert row[33] == 123
    assert "40/400 (header)" in frame.meta["Intensity"] and frame.meta["Modality"] == "CT"


def test_user_window_overrides_header(make_dicom, tmp_path):
    path = _ct(make_dicom, tmp_path, WindowCenter=40, WindowWidth=400)
    row = _read(path, window=(-600, 1500))[0].pixels[0].astype(int)
    # Lung window -600/1500: HU -1350..149; HU -1024 (column 0) -> (−1024+1350)/1499*255+0.5 = 55
    assert row[0] == 55 and row[-1] == 255 and np.all(np.diff(row) >= 0)


def test_percentile_fallback_without_window(make_dicom, tmp_path):
    row = _read(_ct(make_dicom, tmp_path))[0].pixels[0].astype(int)
    assert row[0] == 0 and row[-1] == 255 and np.all(np.diff(row) > 0)


def test_monochrome1_is_inverted(make_dicom, tmp_path):
    stored = np.tile((np.arange(48) * 16).astype(np.int16), (32, 1))
    mono2 = make_dicom(tmp_path / "m2.dcm", stored, WindowCenter=300, WindowWidth=400)
    mono1 = make_dicom(
        tmp_path / "m1.dcm", stored, photometric="MONOCHROME1", WindowCenter=300, WindowWidth=400
    )
    a, b = _read(mono2)[0].pixels, _read(mono1)[0].pixels
    assert np.array_equal(b, 255 - a) and a[0, 0] == 0 and b[0, 0] == 255


def test_voi_lut_sequence_is_applied(make_dicom, tmp_path):
    item = Dataset()
    item.add_new(0x00283002, "US", [256, 0, 8])  # LUT Descriptor: 256 entries, first value 0, 8 bits
    item.add_new(0x00283006, "US", list(range(255, -1, -1)))  # an inverting LUT
    stored = np.tile(np.arange(256, dtype=np.uint16), (4, 1))
    path = make_dicom(tmp_path / "lut.dcm", stored, VOILUTSequence=[item], WindowCenter=10, WindowWidth=20)
    frame = _read(path)[0]
    assert frame.meta["Intensity"] == "VOI LUT (header)"
    assert np.array_equal(frame.pixels[0], np.arange(255, -1, -1, dtype=np.uint8))


def test_multiframe_as_frames_and_as_stacks(make_dicom, tmp_path):
    frames = np.stack([np.full((16, 20), 100 * i, np.uint16) for i in range(7)])
    frames[:, 0, 0] = 0  # so the percentile window spans every frame
    path = make_dicom(tmp_path / "cine.dcm", frames, WindowCenter=300, WindowWidth=601)
    as_frames = _read(path)
    assert [f.frame for f in as_frames] == list(range(7))
    assert [int(f.pixels[5, 5]) for f in as_frames] == sorted(int(f.pixels[5, 5]) for f in as_frames)
    stacks = _read(path, multiframe="stack", stack_depth=3)
    assert [f.frame for f in stacks] == [0, 3] and stacks[0].pixels.shape == (3, 16, 20)
    assert np.array_equal(stacks[1].pixels[0], as_frames[3].pixels)
    with pytest.raises(UnreadableFile, match="fewer than the 2.5D stack depth"):
        _read(path, multiframe="stack", stack_depth=8)


@pytest.mark.parametrize("syntax", [RLELossless, JPEG2000Lossless])
def test_written_compressed_files_decode_like_uncompressed(make_dicom, tmp_path, syntax):
    rng = np.random.default_rng(1)
    stored = np.kron(rng.integers(0, 4000, (5, 6)), np.ones((8, 6))).astype(np.uint16)  # blocks: compressible
    plain = make_dicom(tmp_path / "plain.dcm", stored, WindowCenter=2000, WindowWidth=4000)
    packed = make_dicom(tmp_path / "packed.dcm", stored, WindowCenter=2000, WindowWidth=4000, compress=syntax)
    frame = _read(packed)[0]
    assert frame.meta["TransferSyntax"] == syntax.name and packed.stat().st_size < plain.stat().st_size
    assert np.array_equal(frame.pixels, _read(plain)[0].pixels)


@pytest.mark.parametrize(
    ("name", "shape", "same_as"),
    [
        ("CT_small.dcm", (128, 128), None),
        ("MR_small_RLE.dcm", (64, 64), "MR_small.dcm"),
        ("MR_small_jpeg_ls_lossless.dcm", (64, 64), "MR_small.dcm"),
        ("MR_small_jp2klossless.dcm", (64, 64), "MR_small.dcm"),
        ("SC_rgb_rle.dcm", (3, 100, 100), None),
        ("SC_rgb_jpeg_gdcm.dcm", (3, 100, 100), None),  # JPEG lossless (process 14)
        ("SC_rgb_jpeg_dcmtk.dcm", (3, 100, 100), None),  # JPEG baseline
        ("JPEG2000.dcm", (1024, 256), None),
    ],
)
def test_pydicom_bundled_files(name, shape, same_as):
    frames = _read(Path(get_testdata_file(name)))
    assert frames[0].pixels.shape == shape and frames[0].pixels.dtype == np.uint8
    assert frames[0].pixels.std() > 5  # a real picture, not a flat field
    if same_as == "MR_small.dcm":
        assert np.array_equal(frames[0].pixels, _read(Path(get_testdata_file(same_as)))[0].pixels)


def test_rgb_rle_matches_uncompressed_colours():
    frame = _read(Path(get_testdata_file("SC_rgb_rle.dcm")))[0]
    # SC_rgb test images are horizontal bands of pure red, green and blue at the top
    assert tuple(frame.pixels[:, 2, 50]) == (255, 0, 0)
    assert frame.meta["Intensity"] == "colour"


def test_sniffing_files_without_extension(make_dicom, tmp_path, ct_values):
    named = make_dicom(tmp_path / "IM0001", ct_values)
    bare = make_dicom(tmp_path / "IM0002", ct_values, preamble=False)
    (tmp_path / "notes").write_text("PatientID: 12\nnot a DICOM file\n")
    assert reader_for(named).name == "dicom" and reader_for(bare).name == "dicom"
    assert bare.read_bytes()[128:132] != b"DICM" and is_dicom(bare)
    assert reader_for(tmp_path / "notes") is None


def test_file_without_pixel_data_is_unreadable():
    with pytest.raises(UnreadableFile, match="without pixel data"):
        _read(Path(get_testdata_file("rtplan.dcm")))


def test_label_tag_and_missing_label(make_dicom, tmp_path, ct_values):
    path = make_dicom(tmp_path / "a.dcm", ct_values, BodyPartExamined="CHEST")
    assert _read(path, label_tag="BodyPartExamined")[0].label == "CHEST"
    with pytest.raises(UnreadableFile, match="no value for the label tag StudyDescription"):
        _read(path, label_tag="StudyDescription")
    assert check_keyword("BodyPartExamined") == "BodyPartExamined"
    with pytest.raises(ValueError, match="not a DICOM attribute keyword"):
        check_keyword("BodyPart")


def test_header_table_shortens_values(make_dicom, tmp_path, ct_values):
    path = make_dicom(tmp_path / "h.dcm", ct_values, ImageComments="x" * 200, PatientName="Doe^Jane")
    rows = {r["keyword"]: r for r in header_table(path, max_chars=40)}
    assert rows["PatientName"]["value"] == "Doe^Jane" and rows["PatientName"]["tag"] == "(0010,0010)"
    assert len(rows["ImageComments"]["value"]) == 40 and rows["ImageComments"]["value"].endswith("…")
    assert rows["FileMetaInformationVersion"]["value"] == "<2 bytes>"
    assert "PixelData" not in rows


def test_window_presets_and_parsing(make_dicom, tmp_path):
    previews = window_previews(_ct(make_dicom, tmp_path))
    assert list(previews) == ["header", *CT_WINDOW_PRESETS]
    # HU -1024 (column 0) is black in the bone window and grey in the lung window
    assert previews["bone"][0, 0] == 0 and previews["lung"][0, 0] > 40
    assert parse_window(" 40,400 ") == (40.0, 400.0) and parse_window("") is None
    with pytest.raises(ValueError, match="CENTER,WIDTH"):
        parse_window("40")


def test_dicom_folder_ingest_reports_bad_files_and_keeps_patients_apart(make_dicom, tmp_path):
    rng = np.random.default_rng(0)
    src = tmp_path / "src"
    for p in range(24):
        label = "tumour" if p % 2 else "normal"
        for k in range(3):  # three slices per patient, no .dcm suffix on some
            pixels = rng.integers(0, 2000, (24, 24)).astype(np.uint16)
            make_dicom(src / label / (f"p{p}_{k}.dcm" if k else f"p{p}_{k}"), pixels, PatientID=f"PAT{p:03d}")
    (src / "normal" / "broken.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00\x10\x00garbage")
    (src / "tumour" / "readme.txt").write_text("scanner notes")
    result = ingest(src, "ct", resolution=32)
    assert result.dataset.classes == {"normal": 36, "tumour": 36}
    assert {s.file for s in result.skipped} == {"normal/broken.dcm", "tumour/readme.txt"}
    manifest = load_manifest(result.dataset)
    assert manifest["patient_id"].nunique() == 24
    assert (manifest.groupby("patient_id")["split"].nunique() == 1).all()
    assert set(manifest["split"]) == {"train", "val", "test"}
    assert load_images(result.dataset).images.shape == (72, 1, 32, 32)


@pytest.mark.parametrize(
    ("name", "fast"),
    [
        ("CT_small.dcm", True),
        ("MR_small.dcm", True),
        ("MR_small_padded.dcm", True),
        ("rtdose.dcm", False),
        ("MR_small_bigendian.dcm", False),
        ("MR_small_RLE.dcm", False),
    ],
)
def test_fast_native_decoding_matches_pydicom(name, fast):
    ds = open_dataset(Path(get_testdata_file(name)))
    reference = ds.pixel_array
    assert (_native_pixels(ds) is not None) == fast
    assert np.array_equal(_decode(ds), reference if reference.ndim == 3 else reference[None])


def test_fast_decoding_leaves_odd_high_bits_to_pydicom(make_dicom, tmp_path):
    stored = np.full((4, 4), 0xF123, np.uint16)  # bits above BitsStored (12) set
    ds = open_dataset(make_dicom(tmp_path / "hb.dcm", stored, BitsStored=12, HighBit=11))
    assert _native_pixels(ds) is None
