"""DICOM pixels to display uint8, by the standard's pipeline through pydicom's own functions.

Grayscale (DICOM PS3.3 C.11, PS3.4 N.2): stored values -> Modality LUT (``apply_modality_lut``: Rescale
Slope/Intercept or a Modality LUT Sequence) -> VOI (``apply_voi_lut`` / ``apply_windowing``: the user's window,
else the header's VOI LUT Sequence, else its Window Center/Width with the VOI LUT Function LINEAR, LINEAR_EXACT
or SIGMOID; without any, a 0.5-99.5 percentile window, or for images of at most 8 Bits Stored their stored
range) -> Presentation LUT (``apply_presentation_lut``: Presentation LUT Shape INVERSE or a Presentation LUT
Sequence, evaluated over the 0-255 display range; without either, MONOCHROME1 is inverted, as dcm4che does).

pydicom maps a window onto the output range ``[y_min, y_max]`` set by Bits Stored, Pixel Representation and
the rescale (or the Modality LUT's depth); that range becomes 0-255: ``uint8 = floor((y - y_min) / (y_max -
y_min) * 255 + 0.5)``, and a VOI LUT's output is scaled by its entry depth. A width of 1 is a threshold at the
centre (pydicom's LINEAR rule); windows pydicom refuses (LINEAR width < 1, SIGMOID or LINEAR_EXACT width <= 0,
an unknown function) fall back to the percentile window, with the reason in the result.

Enhanced multi-frame objects keep rescale and window in functional groups (Shared and Per-frame Functional
Groups Sequences: Pixel Value Transformation, Frame VOI LUT); each frame is mapped with its own values, per
frame overriding shared. Colour: palette LUT output is scaled by the LUT's entry depth, RGB by Bits Stored.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.pixels import (
    apply_color_lut,
    apply_modality_lut,
    apply_presentation_lut,
    apply_voi_lut,
    apply_windowing,
)
from pydicom.tag import Tag

from medgan.data.dicom_linear import linear_voi, scale_range
from medgan.data.imageops import scale_to_uint8, window_to_uint8

Counts = Callable[[], np.ndarray] | None

PERCENTILE = "0.5-99.5 percentile window"
_VIEW_KEYWORDS = (
    "PhotometricInterpretation",
    "BitsAllocated",
    "BitsStored",
    "PixelRepresentation",
    "RescaleSlope",
    "RescaleIntercept",
    "RescaleType",
    "ModalityLUTSequence",
    "VOILUTSequence",
    "WindowCenter",
    "WindowWidth",
    "VOILUTFunction",
    "PresentationLUTShape",
    "PresentationLUTSequence",
)
_VIEW_TAGS = tuple(Tag(keyword) for keyword in _VIEW_KEYWORDS)  # tags: no keyword look-up per file
_FUNCTIONAL = {
    "PixelValueTransformationSequence": ("RescaleSlope", "RescaleIntercept", "RescaleType"),
    "FrameVOILUTSequence": ("WindowCenter", "WindowWidth", "VOILUTFunction"),
}


def _first_item(ds: Dataset | None, keyword: str) -> Dataset | None:
    sequence = ds.get(keyword) if ds is not None else None
    return sequence[0] if sequence else None


def _view(ds: Dataset) -> Dataset:
    """A new dataset holding only the attributes the LUT functions read (and the file meta), so changing it
    leaves ``ds`` alone (pydicom's shallow copy shares the elements' dictionary)."""
    view = Dataset()
    if hasattr(ds, "file_meta"):
        view.file_meta = ds.file_meta
    for tag in _VIEW_TAGS:
        if tag in ds:
            view[tag] = ds[tag]
    return view


def frame_views(ds: Dataset) -> list[Dataset]:
    """One dataset per frame holding the attributes the LUT functions read, functional groups applied
    (per-frame values over shared ones)."""
    n_frames = int(ds.get("NumberOfFrames") or 1)
    shared = _first_item(ds, "SharedFunctionalGroupsSequence")
    per_frame = ds.get("PerFrameFunctionalGroupsSequence") or []
    if shared is None and not per_frame:
        return [_view(ds)] * n_frames
    views = []
    for index in range(n_frames):
        view = _view(ds)
        for group in (shared, per_frame[index] if index < len(per_frame) else None):
            for sequence, keywords in _FUNCTIONAL.items():
                item = _first_item(group, sequence)
                for keyword in keywords:
                    if item is not None and keyword in item:
                        view[keyword] = item[keyword]
        views.append(view)
    return views


def view_key(view: Dataset) -> tuple:
    """What makes two frames' mappings equal (frames with equal keys are mapped together)."""
    return tuple(str(view.get(k, "")) for k in _VIEW_KEYWORDS)


def _identity_modality(view: Dataset) -> bool:
    return (
        not view.get("ModalityLUTSequence")
        and float(view.get("RescaleSlope") or 1) == 1
        and float(view.get("RescaleIntercept") or 0) == 0
    )


def _with_window(view: Dataset, window: tuple[float, float]) -> Dataset:
    """A copy of ``view`` holding only the user's LINEAR window as its VOI."""
    out = _view(view)
    for keyword in ("VOILUTSequence", "VOILUTFunction"):
        if keyword in out:
            del out[keyword]
    out.WindowCenter, out.WindowWidth = window
    return out


def windowed_uint8(values: np.ndarray, view: Dataset) -> np.ndarray:
    """pydicom's windowing of modality ``values`` by ``view``'s window, scaled from its output range to 0-255;
    ValueError (pydicom's) for a window it refuses."""
    # one call; the ends give pydicom's y_min, y_max
    flat = np.concatenate([[-np.inf, np.inf], np.ravel(values)])
    with np.errstate(over="ignore"):
        mapped = apply_windowing(flat, _view(view))
    return scale_range(mapped[2:].reshape(np.shape(values)), mapped[0], mapped[1])


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


def _fallback(values: np.ndarray, view: Dataset, counts: Counts) -> tuple[np.ndarray, str]:
    """No usable VOI: the stored range for images of at most 8 Bits Stored, else the percentile window."""
    bits = int(view.get("BitsStored") or 0)
    if _identity_modality(view) and 0 < bits <= 8 and view.get("PixelRepresentation", 0) == 0:
        return scale_range(values, 0, 2**bits - 1), f"stored range (Bits Stored {bits})"
    if counts is None:
        return scale_to_uint8(np.asarray(values, np.float32)), PERCENTILE
    found = _weighted_percentile_window(values, counts())
    return (window_to_uint8(values, *found) if found else np.zeros(values.shape, np.uint8)), PERCENTILE


def _first(value) -> float:
    return float(value[0] if isinstance(value, MultiValue) else value)


def voi_uint8(
    values: np.ndarray, view: Dataset, window: tuple[float, float] | None, counts: Counts = None
) -> tuple[np.ndarray, str]:
    """Modality values -> VOI output as 0-255 uint8 and how (see the module docstring)."""
    if window is not None:
        return windowed_uint8(
            values, _with_window(view, window)
        ), f"window {window[0]:g}/{window[1]:g} (user)"
    if view.get("VOILUTSequence"):
        bits = int(view.VOILUTSequence[0].LUTDescriptor[2])
        return scale_range(
            apply_voi_lut(values, view, index=0, prefer_lut=True), 0, 2**bits - 1
        ), "VOI LUT (header)"
    if view.get("WindowCenter") not in (None, "") and view.get("WindowWidth") not in (None, ""):
        function = str(view.get("VOILUTFunction") or "LINEAR").upper()
        center, width = _first(view.WindowCenter), _first(view.WindowWidth)
        label = (
            f"window {center:g}/{width:g}" + ("" if function == "LINEAR" else f" {function}") + " (header)"
        )
        try:
            return windowed_uint8(values, view), label
        except ValueError as exc:
            out, how = _fallback(values, view, counts)
            return out, f"{how} (header {label[:-9]} unusable: {exc})"
    return _fallback(values, view, counts)


def presentation_uint8(out: np.ndarray, view: Dataset) -> tuple[np.ndarray, str]:
    """The Presentation LUT (or MONOCHROME1's inversion) applied to 0-255 VOI output; returns (pixels, note)."""
    if "PresentationLUTSequence" in view or "PresentationLUTShape" in view:
        ramp = np.arange(256, dtype=np.float64)
        p_values = apply_presentation_lut(ramp, view)
        if "PresentationLUTSequence" in view:
            bits = int(view.PresentationLUTSequence[0].LUTDescriptor[2])
            return scale_range(p_values, 0, 2**bits - 1)[out], ", Presentation LUT (header)"
        shape = str(view.PresentationLUTShape).strip().upper()
        return np.clip(p_values + 0.5, 0, 255).astype(np.uint8)[out], (
            "" if shape == "IDENTITY" else f", {shape}"
        )
    if view.get("PhotometricInterpretation") == "MONOCHROME1":
        return 255 - out, ", MONOCHROME1 inverted"
    return out, ""


def grayscale_uint8(
    values: np.ndarray, view: Dataset, window: tuple[float, float] | None, counts: Counts = None
) -> tuple[np.ndarray, str]:
    """Modality values -> display uint8 (VOI, then Presentation LUT); returns (pixels, how).

    ``counts``, when given, returns how often each entry of ``values`` occurs (``values`` is then a lookup
    table over distinct levels), so the percentile fallback weighs levels like pixels.
    """
    out, how = voi_uint8(values, view, window, counts)
    out, note = presentation_uint8(out, view)
    return out, how + note


def stored_uint8(
    arr: np.ndarray, view: Dataset, window: tuple[float, float] | None
) -> tuple[np.ndarray, str]:
    """Stored grayscale values -> display uint8 through :func:`grayscale_uint8`, one ``view`` for all of ``arr``.

    The common linear case takes :mod:`medgan.data.dicom_linear` (the same result without pydicom's per-call
    overhead); anything else runs pydicom's functions.
    """
    linear = linear_voi(view, window)
    if linear is not None:
        return _through_levels(arr, linear.mapped)
    return _through_levels(
        arr, lambda values, counts: grayscale_uint8(apply_modality_lut(values, view), view, window, counts)
    )


def _through_levels(
    arr: np.ndarray, mapping: Callable[[np.ndarray, Counts], tuple[np.ndarray, str]]
) -> tuple[np.ndarray, str]:
    """``mapping(values, counts)`` of stored ``arr``: 8/16-bit integer images are mapped once per distinct level
    (a lookup table over their value range) and then take one gather, several times faster than mapping every
    pixel; ``counts`` then returns how often each level occurs."""
    if arr.dtype.kind not in "iu" or arr.dtype.itemsize > 2 or arr.size < 4096:
        return mapping(arr, None)
    lo, hi = int(arr.min()), int(arr.max())
    # non-negative levels index the table directly (a signed array is viewed as unsigned, no copy)
    if lo >= 0:
        index = arr if arr.dtype.kind == "u" else arr.view(arr.dtype.str.replace("i", "u"))
    else:
        index = arr.astype(np.int32) - lo
    first = 0 if lo >= 0 else lo
    levels = np.arange(first, hi + 1, dtype=arr.dtype)
    lut, how = mapping(levels, lambda: np.bincount(index.ravel(), minlength=len(levels)))
    return np.take(lut, index), how  # take: several times faster than lut[index] for 16-bit indices


def grayscale_frames(
    arr: np.ndarray, ds: Dataset, window: tuple[float, float] | None
) -> tuple[np.ndarray, str]:
    """Stored frames (F, H, W) -> display uint8 (F, H, W), each frame by its own functional-group values."""
    linear = linear_voi(ds, window)
    if linear is not None:  # the common case: no functional groups, no view to build
        return _through_levels(arr, linear.mapped)
    views = frame_views(ds)
    if len(views) != len(arr):
        views = [views[0]] * len(arr)
    if all(v is views[0] for v in views):  # no functional groups: one view for every frame
        return stored_uint8(arr, views[0], window)
    keys = [view_key(v) for v in views]
    if len(set(keys)) == 1:
        return stored_uint8(arr, views[0], window)
    out = np.empty(arr.shape, np.uint8)
    hows = []
    for key in dict.fromkeys(keys):
        rows = [i for i, k in enumerate(keys) if k == key]
        out[rows], how = stored_uint8(arr[rows], views[rows[0]], window)
        hows.append(how)
    return out, f"per frame (functional groups): {'; '.join(dict.fromkeys(hows))}"


def colour_uint8(arr: np.ndarray, ds: Dataset) -> np.ndarray:
    """Decoded colour (F, H, W, 3) or palette indices (F, H, W) -> uint8 (F, H, W, 3): palette LUT output scaled
    by its entry depth (from the descriptor, or the container's when values exceed it), RGB by Bits Stored."""
    if str(ds.get("PhotometricInterpretation", "")) == "PALETTE COLOR":
        rgb = apply_color_lut(arr, ds)[..., :3]
        top = 2 ** int(ds.RedPaletteColorLookupTableDescriptor[2]) - 1
    else:
        rgb, top = arr, 2 ** int(ds.get("BitsStored") or 8) - 1
    if rgb.dtype == np.uint8 and top == 255:
        return rgb
    if rgb.size and rgb.max() > top:
        top = np.iinfo(rgb.dtype).max if rgb.dtype.kind in "iu" else float(rgb.max())
    return scale_range(rgb, 0, top)
