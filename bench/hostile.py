"""Small files that claim huge images or break archive extraction: the hostile inputs of issue 14.

Each maker streams its payload (zlib, gzip, ZIP members written chunk by chunk), so making a file that
decodes to gigabytes takes seconds and little memory. Used by ``bench/attack.py`` and the tests.
"""

from __future__ import annotations

import gzip
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

_CHUNK = 16 * 1024**2


def _zeros(total: int) -> iter:
    block = bytes(min(_CHUNK, total))
    while total > 0:
        yield block[: min(len(block), total)]
        total -= len(block)


def npz_bomb(path: Path, side: int = 20000, rows: int = 1) -> Path:
    """A ``.npz`` holding ``rows`` float32 images of ``side x side`` zeros (one of 20000: 1.6 GB from 1.5 MB)."""
    header = {"descr": "<f4", "fortran_order": False, "shape": (rows, side, side)}
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf,
        zf.open("images.npy", "w", force_zip64=True) as fh,
    ):
        np.lib.format.write_array_header_1_0(fh, header)
        for block in _zeros(rows * side * side * 4):
            fh.write(block)
    return path


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png16_bomb(path: Path, side: int = 13000) -> Path:
    """A 16-bit grey PNG of ``side x side`` zeros (13000: 338 MB of pixels in about 330 KB)."""
    compressor = zlib.compressobj(9)
    row = bytes(1 + 2 * side)  # filter byte 0, then 2 bytes per pixel
    rows_per_block = max(1, _CHUNK // len(row))
    idat, left = [], side
    while left > 0:
        n = min(rows_per_block, left)
        idat.append(compressor.compress(row * n))
        left -= n
    idat.append(compressor.flush())
    ihdr = struct.pack(">IIBBBBB", side, side, 16, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", b"".join(idat))
        + _png_chunk(b"IEND", b"")
    )
    return path


def nifti_bomb(path: Path, side: int = 800) -> Path:
    """A gzipped NIfTI volume of ``side^3`` uint8 zeros (800: 512 MB of voxels in about 0.5 MB)."""
    import nibabel as nib

    header = nib.Nifti1Header()
    header.set_data_shape((side, side, side))
    header.set_data_dtype(np.uint8)
    header.set_qform(np.eye(4), code=1)
    header.set_sform(np.eye(4), code=1)
    header["vox_offset"] = 352
    with gzip.open(path, "wb", compresslevel=6) as fh:
        fh.write(header.binaryblock + bytes(352 - len(header.binaryblock)))
        for block in _zeros(side**3):
            fh.write(block)
    return path


def dicom_bomb(path: Path, rows: int = 30000, columns: int = 30000, frames: int = 1) -> Path:
    """A DICOM file whose header claims ``frames`` of ``rows x columns`` 16-bit pixels and holds almost none."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.PatientID = "OT", "bomb"
    ds.Rows, ds.Columns, ds.NumberOfFrames = rows, columns, frames
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.PixelData = bytes(1024)
    ds.save_as(path, enforce_file_format=True)
    return path


def zip_of_zeros(path: Path, entries: int = 2048, entry_bytes: int = 1024**2) -> Path:
    """A ZIP of ``entries`` zero-filled entries (2048 x 1 MiB: 2 GiB from about 2.3 MB)."""
    block = bytes(entry_bytes)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(entries):
            zf.writestr(f"zeros/{i:05d}.dcm", block)
    return path


def zip_with_bad_names(path: Path, good_png: bytes) -> Path:
    """A ZIP with a 300-character entry name, a file ``x`` beside ``x/y.png``, and two good images."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("data/ok/a.png", good_png)
        zf.writestr("data/" + "n" * 300 + ".png", good_png)
        zf.writestr("data/x", b"a file")
        zf.writestr("data/x/y.png", good_png)
        zf.writestr("data/ok/b.png", good_png)
    return path


def small_png(value: int = 100, side: int = 32) -> bytes:
    """A valid grey PNG (for the good entries beside the hostile ones)."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.full((side, side), value, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


HOSTILE_FILES: dict[str, Callable[[Path], Path]] = {
    "npz 20000^2 float32": lambda folder: npz_bomb(folder / "bomb.npz"),
    "png 13000^2 16-bit": lambda folder: png16_bomb(folder / "bomb.png"),
    "nii.gz 800^3": lambda folder: nifti_bomb(folder / "bomb.nii.gz"),
    "dicom 30000^2 claimed": lambda folder: dicom_bomb(folder / "bomb.dcm"),
    "zip 2048 x 1 MiB zeros": lambda folder: zip_of_zeros(folder / "zeros.zip"),
    "zip long name + x beside x/": lambda folder: zip_with_bad_names(folder / "names.zip", small_png()),
}
