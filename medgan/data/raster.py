"""PNG, JPEG, TIFF and BMP files (8 or 16 bit, grayscale or RGB) through Pillow."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from medgan.data import budget
from medgan.data.frames import Frame, UnreadableFile
from medgan.data.imageops import scale_to_uint8
from medgan.data.readers import ReadOptions, register_reader

RASTER_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")


def _pixels(img: Image.Image) -> np.ndarray:
    """Pillow image -> uint8 (H, W) or (3, H, W); 16-bit and float images scaled with a percentile window."""
    if img.mode in ("RGB", "RGBA", "P", "CMYK", "YCbCr", "LA", "PA"):
        rgb = np.asarray(img.convert("RGB"))
        if np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]):
            return rgb[..., 0].copy()
        return np.moveaxis(rgb, -1, 0).copy()
    if img.mode in ("1", "L"):
        return np.asarray(img.convert("L")).copy()
    return scale_to_uint8(np.asarray(img))


@register_reader("raster", extensions=RASTER_EXTENSIONS)
def read_raster(path: Path, options: ReadOptions) -> Iterator[Frame]:
    """Yield every frame of a raster file (multi-page TIFFs give one frame per page)."""
    try:
        with Image.open(path) as img:
            n_frames = getattr(img, "n_frames", 1)
            for index in range(n_frames):
                img.seek(index)
                budget.check_image(*img.size, budget.pillow_bytes_per_pixel(img.mode), n_frames)
                img.load()
                yield Frame(pixels=_pixels(img), source=str(path), frame=index)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UnreadableFile(f"not a readable image ({type(exc).__name__}: {exc})") from exc
