"""Blinding: metadata-free PNG bytes, opaque image ids and a per-rater image order.

Every image a rater sees is decoded to bare pixels and encoded again as a PNG that holds only the critical
chunks (IHDR, PLTE, IDAT, IEND): no text (tEXt/iTXt/zTXt), EXIF, time, physical size or colour-profile chunk
can tell a real image from a synthetic one. Ids come from :func:`secrets.token_urlsafe`, so they carry no
order and no trace of where an image came from.

The bytes themselves carry nothing either: every image is stored uncompressed (zlib level 0, stored
blocks), so the file size is a function of width, height and channels only, the same for every image of a
study, real or synthetic; a compressed size would reveal how smooth or noisy an image is. What a rater's
browser can still measure is the image itself (its intensity mean and spread, its texture): that is what
the test asks the rater to judge, and the study's notes say so (:data:`SERVED_BYTES_NOTE`).
"""

from __future__ import annotations

import base64
import hashlib
import io
import secrets
import struct

import numpy as np
from PIL import Image

from medgan.data.imageops import to_pil

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CRITICAL_CHUNKS = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND"})
SERVED_BYTES_NOTE = (
    "Images are served as uncompressed PNGs holding only IHDR/IDAT/IEND, so every image of the study has the "
    "same byte size and encoder settings; the file carries no trace of its origin. What remains visible to a "
    "rater (also in the browser's developer tools) is the image content itself: intensity mean and standard "
    "deviation, histogram and texture. These are properties of the images, which the rater is asked to judge."
)


def new_image_id() -> str:
    """A fresh opaque image id (16 random bytes, URL-safe)."""
    return secrets.token_urlsafe(16)


def new_rater_token() -> str:
    """An unguessable rater token (32 random bytes, URL-safe)."""
    return secrets.token_urlsafe(32)


def strip_ancillary_chunks(png: bytes) -> bytes:
    """Keep only the critical PNG chunks; raises ValueError for bytes that are not a PNG."""
    if not png.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG file (bad signature)")
    out, pos = [PNG_SIGNATURE], len(PNG_SIGNATURE)
    while pos + 8 <= len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind = png[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(png):
            raise ValueError("truncated PNG chunk")
        if kind in CRITICAL_CHUNKS:
            out.append(png[pos:end])
        pos = end
        if kind == b"IEND":
            break
    return b"".join(out)


def encode_png(image: np.ndarray, stack: bool = False) -> bytes:
    """(C, H, W) or (H, W) uint8 -> uncompressed PNG bytes with critical chunks only; the byte size depends on
    the image's shape alone (see the module docstring). A 2.5D ``stack`` is shown as its grey middle slice."""
    buffer = io.BytesIO()
    to_pil(np.asarray(image, dtype=np.uint8), stack).save(
        buffer, format="PNG", compress_level=0, optimize=False
    )
    return strip_ancillary_chunks(buffer.getvalue())


def decode_png(png: bytes) -> np.ndarray:
    """PNG bytes -> bare pixels as (C, H, W) uint8 (everything else in the file is dropped)."""
    with Image.open(io.BytesIO(png)) as img:
        pixels = np.asarray(img.convert("RGB" if img.mode in ("RGB", "RGBA", "P") else "L"))
    return pixels[None] if pixels.ndim == 2 else np.moveaxis(pixels, -1, 0)


def reencode_png(png: bytes) -> bytes:
    """Freshly encoded, metadata-free PNG of the pixels in ``png`` (what a rater's browser receives)."""
    return encode_png(decode_png(png))


def png_data_uri(png: bytes) -> str:
    """``data:image/png;base64,...``: the image inline in the page update, with no file name or URL."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def rater_order(study_seed: int, token: str, image_ids: list[str]) -> list[str]:
    """The order one rater sees the images in: a permutation seeded by (study seed, token).

    Depends only on the seed, the token and the set of ids, so it is the same after every resume and
    differs between raters.
    """
    digest = hashlib.sha256(f"{study_seed}:{token}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:16], "big"))
    ordered = sorted(image_ids)
    return [ordered[i] for i in rng.permutation(len(ordered))]
