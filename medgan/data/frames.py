"""What readers produce: decoded frames, and files they had to skip."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Frame:
    """One decoded image from a source file.

    ``pixels`` is uint8, shaped (H, W) for grayscale or (C, H, W) for RGB / 2.5D stacks, already mapped to
    display intensities by the reader (DICOM windowing, 16-bit scaling). ``label`` and ``patient_id`` are
    filled when the file itself carries them (DICOM tags, MedMNIST arrays); ingestion fills the rest.
    """

    pixels: np.ndarray
    source: str
    frame: int = 0
    label: str | None = None
    patient_id: str | None = None
    split: str | None = None
    meta: dict[str, str] = field(default_factory=dict)


@dataclass
class SkippedFile:
    """A file (or frame) that could not be used, with a reason a person can act on."""

    file: str
    reason: str


class UnreadableFile(Exception):
    """Raised by a reader when a file cannot be decoded; the message is shown to the user."""
