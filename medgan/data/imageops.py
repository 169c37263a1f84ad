"""Small image operations shared by readers, the cache and the exporters."""

from __future__ import annotations

import numpy as np
from PIL import Image


def scale_to_uint8(arr: np.ndarray, low_pct: float = 0.5, high_pct: float = 99.5) -> np.ndarray:
    """Map any numeric array to uint8 with a percentile window (uint8 input is returned unchanged)."""
    if arr.dtype == np.uint8:
        return arr
    data = arr.astype(np.float32)
    finite = data[np.isfinite(data)]
    if finite.size == 0:
        return np.zeros(arr.shape, np.uint8)
    lo, hi = np.percentile(finite, [low_pct, high_pct])
    if hi <= lo:
        lo, hi = float(finite.min()), float(finite.max())
    if hi <= lo:
        return np.zeros(arr.shape, np.uint8)
    data = np.nan_to_num(data, nan=lo)
    return np.clip((data - lo) / (hi - lo) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def window_to_uint8(arr: np.ndarray, center: float, width: float) -> np.ndarray:
    """Linear window (DICOM PS3.3 C.11.2.1.2) of a float array to uint8; a width of 1 (or less) is a threshold
    at ``center - 0.5``, as the standard's LINEAR rule gives."""
    width = max(float(width), 1.0)
    if width == 1:
        return np.where(arr.astype(np.float32) > center - 0.5, 255, 0).astype(np.uint8)
    lo = center - 0.5 - (width - 1) / 2
    scaled = (arr.astype(np.float32) - lo) / (width - 1) * 255.0
    return np.clip(scaled + 0.5, 0, 255).astype(np.uint8)


def to_channels_first(pixels: np.ndarray) -> np.ndarray:
    """(H, W) -> (1, H, W); (C, H, W) stays."""
    return pixels[None] if pixels.ndim == 2 else pixels


def to_grayscale(pixels: np.ndarray) -> np.ndarray:
    """(3, H, W) RGB -> (1, H, W) with ITU-R 601 luma; single-channel input unchanged."""
    pixels = to_channels_first(pixels)
    if pixels.shape[0] == 3:
        luma = 0.299 * pixels[0] + 0.587 * pixels[1] + 0.114 * pixels[2]
        return np.clip(luma + 0.5, 0, 255).astype(np.uint8)[None]
    return pixels


def is_colour(pixels: np.ndarray) -> bool:
    """True for a (3, H, W) image whose channels differ (an RGB file holding grey levels is not colour)."""
    return (
        pixels.ndim == 3
        and pixels.shape[0] == 3
        and not (np.array_equal(pixels[0], pixels[1]) and np.array_equal(pixels[1], pixels[2]))
    )


def channel_note(mode: str, channels: int, n_colour: int, n_images: int) -> str:
    """How an import chose its channels, for the ingestion report."""
    if mode != "auto":
        return f"{mode} (asked): {channels} channel(s); {n_colour} of {n_images} images were in colour"
    if channels == 3 and n_colour:
        return f"auto: {n_colour} of {n_images} images in colour, so RGB (grey images repeated over R, G, B)"
    return f"auto: {channels} channel(s); {n_colour} of {n_images} images in colour"


def _resize_channel(channel: np.ndarray, size: int) -> np.ndarray:
    """One (S, S) uint8 channel to (size, size): shrinking by a whole factor k >= 2 first averages k x k blocks
    (Pillow's ``reduce``, an area filter ~10x cheaper than LANCZOS), then LANCZOS covers what is left (< 2x);
    enlarging is bicubic."""
    image = Image.fromarray(channel)
    if image.width > size:
        factor = image.width // size
        image = image.reduce(factor) if factor >= 2 else image
        method = Image.Resampling.LANCZOS
    else:
        method = Image.Resampling.BICUBIC
    return np.asarray(image if image.width == size else image.resize((size, size), method))


def square_resize(pixels: np.ndarray, size: int) -> np.ndarray:
    """Centre-crop (C, H, W) uint8 to a square and resize each channel to ``size`` (see :func:`_resize_channel`)."""
    pixels = to_channels_first(pixels)
    _, h, w = pixels.shape
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    cropped = pixels[:, top : top + side, left : left + side]
    if side == size:
        return np.ascontiguousarray(cropped)
    return np.stack([_resize_channel(ch, size) for ch in cropped]).astype(np.uint8)


def is_rgb(channels: int, stack: bool = False) -> bool:
    """True when ``channels`` are R, G, B: 3 channels that are not the slices of a 2.5D stack."""
    return channels == 3 and not stack


def channels_label(channels: int, stack: bool = False) -> str:
    """How many channels an image has, in words: ``1 channel(s)``, or ``2.5D stacks of 3 adjacent slices``."""
    return f"2.5D stacks of {channels} adjacent slices" if stack else f"{channels} channel(s)"


def display_pixels(images: np.ndarray, stack: bool = False) -> np.ndarray:
    """What a viewer shows of uint8 ``(N, C, H, W)`` images: ``(N, H, W, 3)`` for RGB, else ``(N, H, W)``
    grey: the one channel, or the middle slice of a 2.5D stack (the usual radiology thumbnail)."""
    c = images.shape[1]
    return images.transpose(0, 2, 3, 1) if is_rgb(c, stack) else images[:, c // 2]


def to_pil(image: np.ndarray, stack: bool = False) -> Image.Image:
    """(C, H, W) or (H, W) uint8 -> PIL image: 'RGB' for 3 colour channels, else 'L' (a grey image, or the
    middle slice of a 2.5D stack: ``stack``, or any channel count but 1 and 3)."""
    pixels = np.ascontiguousarray(display_pixels(to_channels_first(image)[None], stack)[0])
    return Image.fromarray(pixels, "RGB" if pixels.ndim == 3 else "L")


def image_grid(images: np.ndarray, ncols: int, pad: int = 2, stack: bool = False) -> Image.Image:
    """Tile uint8 ``(N, C, H, W)`` images into one PIL image (grey, RGB, or the middle slice of a stack)."""
    n, c, h, w = images.shape
    tiles = display_pixels(images, stack)
    nrows = -(-n // ncols)
    shape = (nrows * (h + pad) + pad, ncols * (w + pad) + pad) + tiles.shape[3:]
    canvas = np.zeros(shape, dtype=np.uint8)
    for i, tile in enumerate(tiles):
        r, col = divmod(i, ncols)
        canvas[
            pad + r * (h + pad) : pad + r * (h + pad) + h, pad + col * (w + pad) : pad + col * (w + pad) + w
        ] = tile
    return Image.fromarray(canvas)
