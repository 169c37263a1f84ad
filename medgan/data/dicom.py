"""DICOM files and folders (with or without ``.dcm``) through pydicom and its pixel handlers.

Grayscale pipeline, as in DICOM PS3.3 C.11: stored values -> modality LUT (Rescale Slope/Intercept or a
Modality LUT Sequence) -> VOI (the user's window, else the header's VOI LUT or Window Center/Width, else a
0.5-99.5 percentile window over the whole file) -> MONOCHROME1 inverted. Colour images (RGB, YBR, palette)
become RGB. Compressed transfer syntaxes (JPEG baseline/lossless, JPEG-LS, JPEG 2000, RLE) decode through
pydicom's handlers (pylibjpeg plug-ins). Multi-frame files give one image per frame, or non-overlapping
stacks of ``stack_depth`` consecutive frames as channels (2.5D).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pydicom
from pydicom.datadict import tag_for_keyword
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.pixels import apply_color_lut, apply_modality_lut, apply_voi_lut

from medgan.data.frames import Frame, UnreadableFile
from medgan.data.imageops import scale_to_uint8, to_grayscale, window_to_uint8
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


def open_dataset(path: Path, *, pixels: bool = True) -> Dataset:
    """Read a DICOM file (``force=True``); raises :class:`UnreadableFile` when it is not DICOM or has no image."""
    try:
        ds = pydicom.dcmread(path, force=True, stop_before_pixels=not pixels)
    except (InvalidDicomError, OSError, ValueError, EOFError, KeyError, TypeError) as exc:
        raise UnreadableFile(f"not a readable DICOM file ({type(exc).__name__}: {exc})") from exc
    if pixels and not any(k in ds for k in PIXEL_KEYWORDS):
        if ds.preamble is None and "SOPClassUID" not in ds:
            raise UnreadableFile("not a readable DICOM file (no DICM marker, no pixel data)")
        kind = getattr(ds.get("SOPClassUID"), "name", None) or "unknown SOP class"
        raise UnreadableFile(f"DICOM file without pixel data ({kind})")
    if "TransferSyntaxUID" not in ds.file_meta:  # preamble-less files: infer from how the body was encoded
        implicit, little = ds.original_encoding
        ds.file_meta.TransferSyntaxUID = (pydicom.uid.ImplicitVRLittleEndian if implicit else
                                          pydicom.uid.ExplicitVRLittleEndian if little else
                                          pydicom.uid.ExplicitVRBigEndian)
    return ds


def _native_pixels(ds: Dataset) -> np.ndarray | None:
    """Uncompressed little-endian grayscale pixels straight from the buffer as (F, H, W), or None.

    pydicom's general decoder costs about as much as parsing the file; this covers the common simple case
    (8/16-bit, no sign extension needed) and leaves everything else to pydicom.
    """
    syntax = ds.file_meta.TransferSyntaxUID
    if syntax.is_compressed or not syntax.is_little_endian or "PixelData" not in ds:
        return None
    bits, stored = ds.get("BitsAllocated"), ds.get("BitsStored")
    signed = ds.get("PixelRepresentation") == 1
    if ds.get("SamplesPerPixel", 1) != 1 or bits not in (8, 16) or (signed and stored != bits):
        return None
    frames, rows, cols = int(ds.get("NumberOfFrames") or 1), int(ds.Rows), int(ds.Columns)
    dtype = np.dtype(f"<{'i' if signed else 'u'}{bits // 8}")
    data = ds.PixelData
    if len(data) < frames * rows * cols * dtype.itemsize:
        return None  # pydicom explains what is wrong
    arr = np.frombuffer(data, dtype, count=frames * rows * cols).reshape(frames, rows, cols)
    return arr if stored == bits or arr.max() < 2 ** int(stored) else None  # unused high bits set: pydicom decides


def _decode(ds: Dataset) -> np.ndarray:
    """All frames as (F, H, W) or (F, H, W, 3)."""
    if (fast := _native_pixels(ds)) is not None:
        return fast
    syntax = ds.file_meta.TransferSyntaxUID
    try:
        arr = ds.pixel_array
    except Exception as exc:  # handler errors come in many types; the reason is what matters
        raise UnreadableFile(f"cannot decode pixel data ({syntax.name}: {type(exc).__name__}: {exc})") from exc
    return arr if int(ds.get("NumberOfFrames") or 1) > 1 else arr[None]


def modality_values(arr: np.ndarray, ds: Dataset) -> np.ndarray:
    """Stored values -> modality values (e.g. HU): pydicom's Modality LUT when the file has one, else the
    linear Rescale Slope/Intercept in float32 (exact for integer HU, half the memory of pydicom's float64)."""
    if ds.get("ModalityLUTSequence"):
        return apply_modality_lut(arr, ds)
    slope, intercept = float(ds.get("RescaleSlope") or 1), float(ds.get("RescaleIntercept") or 0)
    if slope == 1 and intercept == 0:
        return arr
    values = arr.astype(np.float32)
    values *= slope
    values += intercept
    return values


def _header_window(ds: Dataset) -> tuple[float, float] | None:
    """The first Window Center/Width pair in the header, if any (and a usable width)."""
    center, width = ds.get("WindowCenter"), ds.get("WindowWidth")
    if center is None or width is None or center == "" or width == "":
        return None
    first = lambda v: float(v[0] if isinstance(v, pydicom.multival.MultiValue) else v)  # noqa: E731
    center, width = first(center), first(width)
    return (center, width) if width >= 1 else None


def window_from_range(lo: float, hi: float) -> tuple[float, float]:
    """The (center, width) that maps ``lo`` to 0 and ``hi`` to 255, as :func:`scale_to_uint8` does."""
    return (lo + hi) / 2 + 0.5, max(hi - lo + 1, 1.0)


def _weighted_percentile_window(values: np.ndarray, counts: np.ndarray) -> tuple[float, float] | None:
    """0.5-99.5 percentile window of ``values`` occurring ``counts`` times (None for a flat image)."""
    order = np.argsort(values, kind="stable")
    ordered, cumulative = values[order].astype(np.float64), np.cumsum(counts[order])
    lo_i, hi_i = np.searchsorted(cumulative, cumulative[-1] * np.array([0.005, 0.995]))
    lo, hi = ordered[lo_i], ordered[min(hi_i, len(ordered) - 1)]
    if hi <= lo:
        present = ordered[counts[order] > 0]
        lo, hi = present.min(), present.max()
    return window_from_range(lo, hi) if hi > lo else None


def grayscale_to_uint8(values: np.ndarray, ds: Dataset, window: tuple[float, float] | None,
                       counts: Callable[[], np.ndarray] | None = None) -> tuple[np.ndarray, str]:
    """Modality values -> display uint8 by the VOI rules above; returns (pixels, how).

    ``counts``, when given, returns how often each entry of ``values`` occurs (``values`` is then a lookup
    table over distinct levels), so the percentile fallback weighs levels like pixels.
    """
    if window is not None:
        out, how = window_to_uint8(values, *window), f"window {window[0]:g}/{window[1]:g} (user)"
    elif ds.get("VOILUTSequence"):
        bits = int(ds.VOILUTSequence[0].LUTDescriptor[2])
        lut = apply_voi_lut(values, ds, index=0, prefer_lut=True).astype(np.float32)
        out, how = np.clip(lut / (2**bits - 1) * 255 + 0.5, 0, 255).astype(np.uint8), "VOI LUT (header)"
    elif (header := _header_window(ds)) is not None:
        out, how = window_to_uint8(values, *header), f"window {header[0]:g}/{header[1]:g} (header)"
    elif counts is None or values.dtype == np.uint8:
        out, how = scale_to_uint8(values), "0.5-99.5 percentile window"
    else:
        found = _weighted_percentile_window(values, counts())
        out = window_to_uint8(values, *found) if found else np.zeros(values.shape, np.uint8)
        how = "0.5-99.5 percentile window"
    if ds.get("PhotometricInterpretation") == "MONOCHROME1":
        out, how = 255 - out, how + ", MONOCHROME1 inverted"
    return out, how


def stored_to_uint8(arr: np.ndarray, ds: Dataset, window: tuple[float, float] | None) -> tuple[np.ndarray, str]:
    """Stored grayscale values (F, H, W) -> display uint8: modality LUT, VOI, MONOCHROME1.

    8/16-bit integer images run the pipeline once per distinct level (a lookup table over their value
    range) and then take one gather, several times faster than running it on every pixel.
    """
    if arr.dtype.kind not in "iu" or arr.dtype.itemsize > 2 or arr.size < 4096:
        return grayscale_to_uint8(modality_values(arr, ds), ds, window)
    lo, hi = int(arr.min()), int(arr.max())
    index = arr if lo >= 0 and arr.dtype.kind == "u" else arr.astype(np.int32) - lo
    first = 0 if index is arr else lo
    levels = np.arange(first, hi + 1, dtype=arr.dtype)
    lut, how = grayscale_to_uint8(modality_values(levels, ds), ds, window,
                                  counts=lambda: np.bincount(index.ravel(), minlength=len(levels)))
    return lut[index], how


def display_frames(ds: Dataset, window: tuple[float, float] | None = None) -> tuple[np.ndarray, str]:
    """Decoded display images: uint8 (F, H, W) grayscale or (F, 3, H, W) colour, and how they were mapped."""
    arr = _decode(ds)
    photometric = str(ds.get("PhotometricInterpretation", ""))
    if photometric == "PALETTE COLOR":
        arr, photometric = apply_color_lut(arr, ds), "RGB"
    if arr.ndim == 4:  # colour: (F, H, W, 3)
        return np.moveaxis(scale_to_uint8(arr), -1, 1), "colour"
    if photometric not in ("MONOCHROME1", "MONOCHROME2", ""):
        raise UnreadableFile(f"unsupported photometric interpretation {photometric}")
    return stored_to_uint8(arr, ds, window)


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
    label = _label(ds, options.label_tag)
    pixels, how = display_frames(ds, options.window)
    meta = {"Modality": str(ds.get("Modality", "")), "TransferSyntax": ds.file_meta.TransferSyntaxUID.name,
            "Intensity": how}
    patient = str(ds.get("PatientID", "")).strip() or None
    if options.multiframe == "stack":
        gray = pixels if pixels.ndim == 3 else np.stack([to_grayscale(p)[0] for p in pixels])
        stacks = frame_stacks(gray, options.stack_depth)
    else:
        stacks = enumerate(pixels)
    for index, image in stacks:
        yield Frame(pixels=image, source=str(path), frame=index, label=label, patient_id=patient, meta=dict(meta))


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
        rows.append({"tag": f"({element.tag.group:04X},{element.tag.element:04X})", "keyword": keyword,
                     "VR": str(element.VR), "value": _short_value(element, max_chars)})
    return rows


def window_previews(path: Path, presets: dict[str, tuple[float, float]] | None = None) -> dict[str, np.ndarray]:
    """First frame of a grayscale DICOM file as imported (``"header"``) and under each window preset."""
    ds = open_dataset(Path(path))
    if _decode(ds).ndim == 4 or ds.get("PhotometricInterpretation") == "PALETTE COLOR":
        raise UnreadableFile("colour images have no window to set")
    stored = _decode(ds)[:1]
    out = {"header": stored_to_uint8(stored, ds, None)[0][0]}
    for name, window in (presets or CT_WINDOW_PRESETS).items():
        out[name] = stored_to_uint8(stored, ds, window)[0][0]
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
