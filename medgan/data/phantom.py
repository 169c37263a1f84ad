"""The offline demo dataset: a breast-ultrasound-like phantom made by code (no patient data, no download).

Each 64x64 image is a B-mode-like slab: a bright skin line, a subcutaneous fat layer, glandular tissue with
horizontal streaks, depth attenuation and Rayleigh speckle. Class ``mass`` adds a hypoechoic lesion of
random size and shape (smooth oval or lobulated) with posterior shadowing or enhancement; class ``normal``
has none. Two images per simulated patient, so patient-level splits have something to do.
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter

from medgan.data.store import DatasetInfo, DatasetNotFound, get_dataset

DEMO_NAME = "demo-phantom"
DEMO_DESCRIPTION = (
    "Synthetic breast-ultrasound-like PHANTOM made by code (medgan.data.phantom): no patient data. "
    "Classes: mass (hypoechoic lesion) and normal."
)


def _tissue(rng: np.random.Generator, size: int) -> np.ndarray:
    """Echogenicity map of layered tissue in [0, 1]."""
    y = np.linspace(0, 1, size)[:, None]
    skin = rng.uniform(0.06, 0.1)
    fat_end = skin + rng.uniform(0.15, 0.3)
    tissue = np.where(y < skin, 0.95, np.where(y < fat_end, 0.35, 0.7)) * np.ones((size, size))
    streaks = gaussian_filter(rng.normal(0, 1, (size, size)), sigma=(0.8, 6.0))
    tissue += 0.18 * streaks * (y >= fat_end)
    tissue *= np.exp(-rng.uniform(0.4, 0.9) * y)  # depth attenuation
    return np.clip(tissue, 0.02, 1.0)


def _lesion_mask(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Soft lesion mask and a mask of the region below it (for shadowing / enhancement)."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    cy, cx = rng.uniform(0.4, 0.7), rng.uniform(0.25, 0.75)
    ry, rx = rng.uniform(0.06, 0.14), rng.uniform(0.08, 0.2)
    angle = np.arctan2(yy - cy, xx - cx)
    lobes = 1 + rng.uniform(0, 0.22) * np.sin(rng.integers(3, 7) * angle + rng.uniform(0, 6.3))
    radius = np.sqrt(((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2) / lobes
    mask = 1 / (1 + np.exp((radius - 1) * 12))
    below = (yy > cy) * np.exp(-(((xx - cx) / (rx * 0.9)) ** 2))
    return mask, below


def phantom_image(rng: np.random.Generator, mass: bool, size: int = 64) -> np.ndarray:
    """One phantom image (uint8, size x size)."""
    echo = _tissue(rng, size)
    if mass:
        mask, below = _lesion_mask(rng, size)
        echo = echo * (1 - 0.85 * mask)
        echo = echo * (1 + rng.choice([-0.45, 0.35]) * below * (1 - mask))
    speckle = rng.rayleigh(scale=0.65, size=(size, size))
    image = gaussian_filter(echo * speckle, sigma=0.6)
    return np.clip(image / 1.2 * 255, 0, 255).astype(np.uint8)


def write_phantom_folder(folder: Path, n_images: int = 1000, size: int = 64, seed: int = 0) -> Path:
    """Write ``n_images`` phantom PNGs into ``folder/<class>/`` and a ``labels.csv`` with patient ids."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_images):
        label = "mass" if i % 2 == 0 else "normal"
        patient = f"phantom-{i // 2 // 2:04d}-{label}"  # two images per patient, one class per patient
        rel = f"{label}/phantom_{i:04d}.png"
        (folder / label).mkdir(parents=True, exist_ok=True)
        Image.fromarray(phantom_image(rng, label == "mass", size)).save(folder / rel)
        rows.append((rel, label, patient))
    with open(folder / "labels.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "label", "patient_id"])
        writer.writerows(rows)
    return folder


def ensure_demo_dataset(n_images: int = 1000) -> DatasetInfo:
    """The demo dataset, made and registered on first call (a few seconds), looked up afterwards."""
    from medgan.data.ingest import ingest

    try:
        return get_dataset(DEMO_NAME)
    except DatasetNotFound:
        pass
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_phantom_folder(Path(tmp), n_images=n_images)
        try:
            return ingest(
                folder,
                DEMO_NAME,
                labels=f"csv:{folder / 'labels.csv'}",
                resolution=64,
                channels="gray",
                description=DEMO_DESCRIPTION,
            ).dataset
        except ValueError:  # another process registered it first
            return get_dataset(DEMO_NAME)


def dataset_or_demo(name: str) -> DatasetInfo:
    """``get_dataset(name)``, except that the phantom demo is made on first use (as the app does)."""
    return ensure_demo_dataset() if name == DEMO_NAME else get_dataset(name)
