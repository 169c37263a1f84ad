"""The common grayscale DICOM display case in plain numpy, equal bit for bit to the pydicom chain.

The common case: MONOCHROME1/2, a linear Rescale Slope/Intercept (or none), a LINEAR Window Center/Width (the
header's or the user's), no Modality LUT Sequence, VOI LUT Sequence, Presentation LUT or functional groups.
:func:`linear_voi` reads those attributes once (:func:`~medgan.data.dicom_header.header_value`) and
:meth:`LinearVOI.uint8` repeats, in the same order and precision, what ``apply_modality_lut``, ``apply_windowing`` and the 0-255 scaling of
:mod:`medgan.data.dicom_display` compute, without pydicom's per-call attribute look-ups (most of the cost on a
typical CT slice). Anything else returns None, and the caller runs pydicom's functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.tag import Tag

from medgan.data.dicom_header import header_value

_NOT_LINEAR = frozenset(
    Tag(k)
    for k in (
        "ModalityLUTSequence",
        "VOILUTSequence",
        "PresentationLUTShape",
        "PresentationLUTSequence",
        "SharedFunctionalGroupsSequence",
        "PerFrameFunctionalGroupsSequence",
    )
)
_VOI_FUNCTION = Tag("VOILUTFunction")
_RESCALE = (Tag("RescaleSlope"), Tag("RescaleIntercept"))


def scale_range(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """``[lo, hi]`` -> 0-255 uint8, rounding half up."""
    span = hi - lo
    scaled = (
        (np.asarray(values, np.float64) - lo) * (255.0 / span) if span > 0 else np.zeros(np.shape(values))
    )
    return np.clip(scaled + 0.5, 0, 255).astype(np.uint8)


def _number(value) -> float | int | None:
    """A finite number (the first of several values), else None."""
    if isinstance(value, MultiValue | list):
        value = value[0] if len(value) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class LinearVOI:
    """A linear rescale and LINEAR window onto pydicom's output range ``[y_min, y_max]``, then 0-255."""

    slope: float | None  # None: no rescale (both Rescale Slope and Intercept absent)
    intercept: float | None
    center: float
    width: float
    y_min: float
    y_max: float
    invert: bool  # MONOCHROME1
    how: str

    def uint8(self, stored: np.ndarray) -> np.ndarray:
        """Stored values -> display uint8, as pydicom's modality LUT, windowing and the 0-255 scaling give."""
        values = stored
        if self.slope is not None:  # apply_modality_lut
            values = stored.astype(np.float64) * self.slope
            values += self.intercept
        arr = np.asarray(values).astype(np.float64)  # apply_windowing, LINEAR
        center, width = self.center - 0.5, self.width - 1
        with np.errstate(over="ignore"):
            below = arr <= (center - width / 2)
            above = arr > (center + width / 2)
            between = np.logical_and(~below, ~above)
            arr[below] = self.y_min
            arr[above] = self.y_max
            if between.any():
                arr[between] = ((arr[between] - center) / width + 0.5) * (
                    self.y_max - self.y_min
                ) + self.y_min
        out = scale_range(arr, float(self.y_min), float(self.y_max))
        return 255 - out if self.invert else out

    def mapped(self, stored: np.ndarray, counts=None) -> tuple[np.ndarray, str]:
        """:meth:`uint8` and how, in the form :mod:`medgan.data.dicom_display` maps levels (``counts`` unused)."""
        return self.uint8(stored), self.how


def linear_voi(ds: Dataset, window: tuple[float, float] | None) -> LinearVOI | None:
    """The common case's mapping for ``ds`` (the user's ``window`` over the header's), or None for any other."""
    if not ds.keys().isdisjoint(_NOT_LINEAR):
        return None
    photometric = header_value(ds, "PhotometricInterpretation")
    bits, representation = header_value(ds, "BitsStored"), header_value(ds, "PixelRepresentation")
    if (
        photometric not in ("MONOCHROME1", "MONOCHROME2")
        or not isinstance(bits, int)
        or representation is None
    ):
        return None
    if window is None:
        function = header_value(ds, "VOILUTFunction")
        if _VOI_FUNCTION in ds and not (isinstance(function, str) and function.upper() == "LINEAR"):
            return None
        center, width = _number(header_value(ds, "WindowCenter")), _number(header_value(ds, "WindowWidth"))
        source = "header"
    else:
        (center, width), source = (_number(v) for v in window), "user"
    if center is None or width is None or width < 1:
        return None
    has_slope, has_intercept = (tag in ds for tag in _RESCALE)
    slope = intercept = None
    if has_slope or has_intercept:
        slope, intercept = (
            _number(header_value(ds, "RescaleSlope")),
            _number(header_value(ds, "RescaleIntercept")),
        )
        if slope is None or intercept is None:
            return None
    if representation == 0:  # pydicom's output range, from Bits Stored, Pixel Representation and the rescale
        y_min, y_max = 0, 2**bits - 1
    else:
        y_min, y_max = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    if slope is not None:
        y_min, y_max = y_min * slope + intercept, y_max * slope + intercept
    invert = photometric == "MONOCHROME1"
    how = f"window {center:g}/{width:g} ({source})" + (", MONOCHROME1 inverted" if invert else "")
    return LinearVOI(slope, intercept, center, width, y_min, y_max, invert, how)
