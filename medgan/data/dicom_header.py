"""Single header values as pydicom gives them, read straight from the elements ``dcmread`` left unconverted.

pydicom converts an element on first access (VR look-up, value conversion, validation, a new DataElement),
about 30 us each; the importer reads some 15 per file, a fifth of a CT slice's decode. For the plain cases,
a little-endian single value of VR US, SS, UL, DS, IS, CS, UI, SH or LO in ASCII, :func:`header_value`
decodes the bytes itself, as pydicom's converters do (strip the padding, ``float`` / ``int``); anything else
(big endian, several values, empty, non-ASCII or unparsable text, an element already converted) is
``ds[tag].value``, pydicom's own.
"""

from __future__ import annotations

from typing import Any

from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag, Tag

_INTEGERS = {"US": (2, False), "SS": (2, True), "UL": (4, False)}  # bytes, signed
_TEXT = ("CS", "UI", "SH", "LO")
_TAGS: dict[str, BaseTag] = {}


def _tag(keyword: str) -> BaseTag:
    tag = _TAGS.get(keyword)
    if tag is None:
        tag = _TAGS[keyword] = Tag(tag_for_keyword(keyword))
    return tag


def _decoded(element: RawDataElement, vr: str) -> Any:
    """The value of a raw little-endian element, or ``NotImplemented`` where pydicom should decide."""
    raw = element.value
    if not raw:
        return NotImplemented
    if vr in _INTEGERS:
        size, signed = _INTEGERS[vr]
        return int.from_bytes(raw, "little", signed=signed) if len(raw) == size else NotImplemented
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        return NotImplemented
    if "\\" in text or "\x1b" in text:
        return NotImplemented
    text = text.rstrip(" \0")
    if vr in _TEXT:
        return text
    try:
        return float(text) if vr == "DS" else int(text) if vr == "IS" else NotImplemented
    except ValueError:
        return NotImplemented


def header_value(ds: Dataset, keyword: str, default: Any = None) -> Any:
    """``ds``'s value for ``keyword`` (``default`` when absent), equal to pydicom's ``ds[keyword].value``."""
    tag = _tag(keyword)
    element = ds.get_item(tag, keep_deferred=True)
    if element is None:
        return default
    if isinstance(element, RawDataElement) and element.is_little_endian and element.value is not None:
        vr = element.VR or dictionary_VR(tag)
        value = (
            _decoded(element, vr) if vr in _INTEGERS or vr in _TEXT or vr in ("DS", "IS") else NotImplemented
        )
        if value is not NotImplemented:
            return value
    return ds[tag].value
