"""DICOM files and folders (with or without ``.dcm``) through pydicom and its pixel handlers.

Display mapping (modality LUT, VOI window or LUT incl. SIGMOID, Presentation LUT, MONOCHROME1, functional
groups of enhanced multi-frame objects, palette and RGB depth) in :mod:`medgan.data.dicom_display`, through
pydicom's own LUT functions. Colour images (RGB, YBR, palette) become RGB. Segmentation objects (label masks,
often 1-bit) are skipped with that reason; a file cut short says "truncated". Compressed transfer syntaxes (JPEG baseline/lossless, JPEG-LS, JPEG 2000, RLE) decode through
pydicom's handlers (pylibjpeg plug-ins). Multi-frame files give one image per frame, or non-overlapping
stacks of ``stack_depth`` consecutive frames as channels (2.5D).
"""

from __future__ import annotations

import struct
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
from pydicom.datadict import tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.pixels.utils import get_expected_length
from pydicom.uid import SegmentationStorage

from medgan.data import budget
from medgan.data.dicom_display import colour_uint8, frame_views, grayscale_frames, stored_uint8
from medgan.data.dicom_header import header_value
from medgan.data.frames import Frame, UnreadableFile
from medgan.data.imageops import to_grayscale
from medgan.data.readers import ReadOptions, register_reader

DICOM_EXTENSIONS = (".dcm", ".dicom")
PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")

# pydicom warns about every odd value it reads; a skipped file's reason already says what is wrong. (A filter,
# not warnings.catch_warnings, which is not thread-safe, and inside Streamlit files are decoded in threads.)
warnings.filterwarnings("ignore", category=UserWarning, module=r"pydicom(\.|$)")

# CT windows as (center, width) in Hounsfield units; common radiology presets.
CT_WINDOW_PRESETS: dict[str, tuple[float, float]] = {
    "brain": (40, 80),
    "subdural": (75, 215),
    "stroke": (32, 8),
    "soft tissue": (40, 400),
    "mediastinum": (50, 350),
    "liver": (60, 160),
    "lung": (-600, 1500),
    "bone": (400, 1800),
}


def is_dicom(path: Path) -> bool:
    """True for a DICOM Part 10 file ('DICM' at byte 128) or a preamble-less one that holds pixel data."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(132)
    except OSError:
        return False
    if head[128:132] == b"DICM":
        return True
    try:
        ds = pydicom.dcmread(path, force=True, defer_size=1024)
        return any(k in ds for k in PIXEL_KEYWORDS)
    except Exception:  # any parse failure means "not DICOM"
        return False


def _ends_mid_element(ds: Dataset) -> bool:
    """True when the last element read holds fewer bytes than its length says (the file was cut off)."""
    last = next(reversed(list(ds.elements())), None)
    return (
        isinstance(last, RawDataElement)
        and last.length != 0xFFFFFFFF
        and len(last.value or b"") < last.length
    )


def open_dataset(path: Path, *, pixels: bool = True) -> Dataset:
    """Read a DICOM file (``force=True``); raises :class:`UnreadableFile` when it is not DICOM or has no image."""
    if pixels:
        budget.check_file_size(path)
    try:
        ds = pydicom.dcmread(path, force=True, stop_before_pixels=not pixels)
    except (InvalidDicomError, OSError, ValueError, EOFError, KeyError, TypeError, struct.error) as exc:
        with open(path, "rb") as fh:
            marked = fh.read(132)[128:] == b"DICM"
        what = "truncated or corrupt DICOM file" if marked else "not a readable DICOM file"
        raise UnreadableFile(f"{what} ({type(exc).__name__}: {exc})") from exc
    if pixels and not any(k in ds for k in PIXEL_KEYWORDS):
        kind = getattr(ds.get("SOPClassUID"), "name", None) or "unknown SOP class"
        if ds.preamble is None and "SOPClassUID" not in ds:
            raise UnreadableFile("not a readable DICOM file (no DICM marker, no pixel data)")
        if _ends_mid_element(ds):
            raise UnreadableFile(
                f"truncated DICOM file: it ends inside an element, before any pixel data ({kind})"
            )
        if "Rows" in ds and "Columns" in ds:
            raise UnreadableFile(
                f"truncated DICOM file: its header describes an image but it ends before the "
                f"pixel data ({kind})"
            )
        raise UnreadableFile(f"DICOM file without pixel data ({kind})")
    if "TransferSyntaxUID" not in ds.file_meta:  # preamble-less files: infer from how the body was encoded
        implicit, little = ds.original_encoding
        ds.file_meta.TransferSyntaxUID = (
            pydicom.uid.ImplicitVRLittleEndian
            if implicit
            else pydicom.uid.ExplicitVRLittleEndian
            if little
            else pydicom.uid.ExplicitVRBigEndian
        )
    return ds


def _native_pixels(ds: Dataset) -> np.ndarray | None:
    """Uncompressed little-endian grayscale pixels straight from the buffer as (F, H, W), or None.

    pydicom's general decoder costs about as much as parsing the file; this covers the common simple case
    (8/16-bit, no sign extension needed) and leaves everything else to pydicom.
    """
    syntax = ds.file_meta.TransferSyntaxUID
    if syntax.is_compressed or not syntax.is_little_endian or "PixelData" not in ds:
        return None
    bits, stored = header_value(ds, "BitsAllocated"), header_value(ds, "BitsStored")
    signed = header_value(ds, "PixelRepresentation") == 1
    if header_value(ds, "SamplesPerPixel", 1) != 1 or bits not in (8, 16) or (signed and stored != bits):
        return None
    frames = int(header_value(ds, "NumberOfFrames") or 1)
    rows, cols = header_value(ds, "Rows"), header_value(ds, "Columns")
    if rows is None or cols is None:
        rows, cols = ds.Rows, ds.Columns  # absent: pydicom's AttributeError, as before
    rows, cols = int(rows), int(cols)
    dtype = np.dtype(f"<{'i' if signed else 'u'}{bits // 8}")
    data = ds.PixelData
    if len(data) < frames * rows * cols * dtype.itemsize:
        return None  # pydicom explains what is wrong
    arr = np.frombuffer(data, dtype, count=frames * rows * cols).reshape(frames, rows, cols)
    # unused high bits set: pydicom decides
    return arr if stored == bits or arr.max() < 2 ** int(stored) else None


def _check_length(ds: Dataset) -> None:
    """UnreadableFile("truncated ...") when uncompressed pixel data holds fewer bytes than the header needs."""
    syntax = ds.file_meta.TransferSyntaxUID
    if syntax.is_compressed or "PixelData" not in ds:
        return
    try:
        needed = get_expected_length(ds)  # pydicom's rule (YBR_FULL_422 subsampling, 1-bit packing)
    except (AttributeError, KeyError, TypeError, ValueError):
        return  # the header lacks what the length needs; pydicom's decoder says what is wrong
    if len(ds.PixelData) < needed:
        raise UnreadableFile(
            f"truncated DICOM file: pixel data holds {len(ds.PixelData)} bytes, the header needs {needed}"
        )


def _decode(ds: Dataset) -> np.ndarray:
    """All frames as (F, H, W) or (F, H, W, 3)."""
    budget.check_dicom(ds)
    if (fast := _native_pixels(ds)) is not None:
        return fast
    _check_length(ds)
    syntax = ds.file_meta.TransferSyntaxUID
    try:
        arr = ds.pixel_array
    except Exception as exc:  # handler errors come in many types; the reason is what matters
        raise UnreadableFile(
            f"cannot decode pixel data ({syntax.name}: {type(exc).__name__}: {exc})"
        ) from exc
    return arr if int(ds.get("NumberOfFrames") or 1) > 1 else arr[None]


def display_frames(ds: Dataset, window: tuple[float, float] | None = None) -> tuple[np.ndarray, str]:
    """Decoded display images: uint8 (F, H, W) grayscale or (F, 3, H, W) colour, and how they were mapped."""
    arr = _decode(ds)
    photometric = str(header_value(ds, "PhotometricInterpretation") or "")
    if photometric == "PALETTE COLOR" or arr.ndim == 4:  # colour: (F, H, W, 3) after the palette
        return np.moveaxis(colour_uint8(arr, ds), -1, 1), "colour"
    if photometric not in ("MONOCHROME1", "MONOCHROME2", ""):
        raise UnreadableFile(f"unsupported photometric interpretation {photometric}")
    return grayscale_frames(arr, ds, window)


def frame_stacks(frames: np.ndarray, depth: int) -> Iterator[tuple[int, np.ndarray]]:
    """Non-overlapping stacks of ``depth`` consecutive frames (first frame index, (depth, H, W)); a tail is dropped."""
    if len(frames) < depth:
        raise UnreadableFile(f"{len(frames)} frame(s), fewer than the 2.5D stack depth of {depth}")
    for start in range(0, len(frames) - depth + 1, depth):
        yield start, np.ascontiguousarray(frames[start : start + depth])


def _label(ds: Dataset, keyword: str | None) -> str | None:
    if keyword is None:
        return None
    value = ds.get(keyword)
    text = "" if value is None else str(value).strip()
    if not text:
        raise UnreadableFile(f"no value for the label tag {keyword}")
    return text


@register_reader("dicom", extensions=DICOM_EXTENSIONS, sniff=is_dicom)
def read_dicom(path: Path, options: ReadOptions) -> Iterator[Frame]:
    """Yield the frames (or 2.5D stacks) of one DICOM file with label, patient id and a few header fields."""
    ds = open_dataset(path)
    if header_value(ds, "SOPClassUID") == SegmentationStorage:
        raise UnreadableFile("segmentation object (SEG): its frames are label masks, not images")
    label = _label(ds, options.label_tag)
    pixels, how = display_frames(ds, options.window)
    meta = {
        "Modality": str(header_value(ds, "Modality") or ""),
        "TransferSyntax": ds.file_meta.TransferSyntaxUID.name,
        "Intensity": how,
    }
    patient = str(header_value(ds, "PatientID") or "").strip() or None
    if options.multiframe == "stack":
        gray = pixels if pixels.ndim == 3 else np.stack([to_grayscale(p)[0] for p in pixels])
        stacks = frame_stacks(gray, options.stack_depth)
    else:
        stacks = enumerate(pixels)
    for index, image in stacks:
        yield Frame(
            pixels=image, source=str(path), frame=index, label=label, patient_id=patient, meta=dict(meta)
        )


def _short_value(element: pydicom.DataElement, max_chars: int) -> str:
    if element.VR == "SQ":
        return f"sequence of {len(element.value)} item(s)"
    if element.VR in ("OB", "OW", "OF", "OD", "OL", "OV", "UN") or isinstance(element.value, bytes):
        return f"<{len(element.value or b'')} bytes>"
    text = str(element.value)
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


def header_table(path: Path, max_chars: int = 80) -> list[dict[str, str]]:
    """A file's header (file meta and top-level attributes, no pixel data) as rows of tag, keyword, VR, value."""
    ds = open_dataset(Path(path), pixels=False)
    rows = []
    for element in [*ds.file_meta, *ds]:
        keyword = element.keyword or ("(private)" if element.tag.is_private else "(unknown)")
        rows.append(
            {
                "tag": f"({element.tag.group:04X},{element.tag.element:04X})",
                "keyword": keyword,
                "VR": str(element.VR),
                "value": _short_value(element, max_chars),
            }
        )
    return rows


def window_previews(
    path: Path, presets: dict[str, tuple[float, float]] | None = None
) -> dict[str, np.ndarray]:
    """First frame of a grayscale DICOM file as imported (``"header"``) and under each window preset."""
    ds = open_dataset(Path(path))
    if _decode(ds).ndim == 4 or ds.get("PhotometricInterpretation") == "PALETTE COLOR":
        raise UnreadableFile("colour images have no window to set")
    stored, view = _decode(ds)[:1], frame_views(ds)[0]
    out = {"header": stored_uint8(stored, view, None)[0][0]}
    for name, window in (presets or CT_WINDOW_PRESETS).items():
        out[name] = stored_uint8(stored, view, window)[0][0]
    return out


def parse_window(text: str | None) -> tuple[float, float] | None:
    """``"40,400"`` -> (40.0, 400.0); empty -> None; raises ValueError with an example otherwise."""
    if not text or not text.strip():
        return None
    try:
        center, width = (float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"a window is CENTER,WIDTH (e.g. 40,400), got {text!r}") from None
    if width < 1:
        raise ValueError(f"window width must be at least 1, got {width:g}")
    return center, width


def check_keyword(keyword: str) -> str:
    """``keyword`` if it is a DICOM attribute keyword (e.g. BodyPartExamined), else ValueError."""
    if tag_for_keyword(keyword) is None:
        raise ValueError(f"{keyword!r} is not a DICOM attribute keyword (e.g. BodyPartExamined, Modality)")
    return keyword
