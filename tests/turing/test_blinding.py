"""Blinding: served PNGs carry no metadata chunks, ids are random, orders are per rater and stable."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from medgan.turing import blinding

LEAKY_CHUNKS = {b"tEXt", b"iTXt", b"zTXt", b"eXIf", b"tIME", b"pHYs", b"iCCP", b"sRGB", b"gAMA"}


def chunk_types(png: bytes) -> list[bytes]:
    """Chunk types of a PNG, parsed here independently of the code under test (CRCs checked)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, kinds = 8, []
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + data) == crc
        kinds.append(kind)
        pos += 12 + length
    return kinds


def leaky_png(pixels: np.ndarray) -> bytes:
    """A PNG stuffed with the metadata a real file from a scanner or a folder could carry."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Source", "/data/real/patient_0001.dcm")
    info.add_itxt("Comment", "REAL image, PatientID 12345", zip=False)
    info.add_text("Label", "synthetic-seed-7", zip=True)
    exif = Image.Exif()
    exif[0x010E] = "real scan"  # ImageDescription
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", pnginfo=info, exif=exif, dpi=(300, 300))
    return buffer.getvalue()


def test_leaky_fixture_really_has_metadata():
    kinds = set(chunk_types(leaky_png(np.zeros((8, 8), np.uint8))))
    assert {b"tEXt", b"iTXt", b"zTXt", b"eXIf", b"pHYs"} <= kinds


def test_reencoded_png_has_only_critical_chunks_and_same_pixels():
    pixels = np.random.default_rng(0).integers(0, 256, (16, 16), dtype=np.uint8)
    served = blinding.reencode_png(leaky_png(pixels))
    assert chunk_types(served) == [b"IHDR", b"IDAT", b"IEND"]
    assert not LEAKY_CHUNKS & set(chunk_types(served))
    assert b"patient" not in served and b"REAL" not in served and b"synthetic" not in served
    np.testing.assert_array_equal(blinding.decode_png(served)[0], pixels)


def test_strip_ancillary_chunks_removes_text_from_any_png():
    stripped = blinding.strip_ancillary_chunks(leaky_png(np.ones((4, 4), np.uint8)))
    assert set(chunk_types(stripped)) == {b"IHDR", b"IDAT", b"IEND"}
    with pytest.raises(ValueError, match="not a PNG"):
        blinding.strip_ancillary_chunks(b"GIF89a....")


def test_rgb_round_trip():
    rgb = np.random.default_rng(1).integers(0, 256, (3, 8, 8), dtype=np.uint8)
    np.testing.assert_array_equal(blinding.decode_png(blinding.encode_png(rgb)), rgb)


def test_ids_and_tokens_are_random_and_unguessable():
    ids = [blinding.new_image_id() for _ in range(500)]
    assert len(set(ids)) == 500 and all(len(i) >= 22 for i in ids)
    assert ids != sorted(ids)  # not sequential
    assert len(blinding.new_rater_token()) >= 43  # 32 random bytes


def test_rater_order_is_per_rater_and_stable():
    ids = [blinding.new_image_id() for _ in range(30)]
    first = blinding.rater_order(7, "token-a", ids)
    assert sorted(first) == sorted(ids)
    # stable, whatever the input order
    assert blinding.rater_order(7, "token-a", list(reversed(ids))) == first
    assert blinding.rater_order(7, "token-b", ids) != first
    assert blinding.rater_order(8, "token-a", ids) != first


def test_a_stack_is_served_as_its_grey_middle_slice():
    """Raters see a 2.5D stack's middle slice in grey, not its 3 slices as colour, after re-encoding too."""
    slices = np.random.default_rng(5).integers(0, 256, (3, 8, 8), dtype=np.uint8)
    png = blinding.encode_png(slices, stack=True)
    assert np.array_equal(blinding.decode_png(png), slices[1:2])
    assert np.array_equal(blinding.decode_png(blinding.reencode_png(png)), slices[1:2])
    assert np.array_equal(blinding.decode_png(blinding.encode_png(slices)), slices)  # RGB stays RGB
