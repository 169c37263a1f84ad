"""FID over training steps, from the sample grids a run saves at every snapshot.

The trainer keeps only its latest checkpoint (``checkpoints/latest.pt``), but writes a grid of images from
fixed noise at every snapshot (``samples/step_<step>.png``, 8 columns, 2 px padding). Each grid is cut into
its images and scored against the training set, so a curve exists for every run without extra sampling.
Grids are small (16-32 images): FID at that size is biased upwards, so the baseline beside the curve is
held-out real images at the same size (mean and sd over subsets); read the trend and the gap, not the level.
Full evaluations (``fid_history.json``, one point per evaluated checkpoint) complete the picture.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
from PIL import Image

from medgan import runs
from medgan.data.store import get_dataset
from medgan.metrics.features import get_extractor, real_features
from medgan.metrics.fid import fid
from medgan.workspace import atomic_write_json

GRID_COLUMNS = 8
GRID_PAD = 2
_STEP = re.compile(r"step_(\d+)\.png$")


def grid_tiles(path: Path, resolution: int) -> np.ndarray:
    """The (N, C, R, R) uint8 images of a sample grid (grey grids give C=1, colour grids C=3)."""
    pixels = np.asarray(Image.open(path))
    cell = resolution + GRID_PAD
    rows = (pixels.shape[0] - GRID_PAD) // cell
    tiles = [pixels[GRID_PAD + r * cell : GRID_PAD + r * cell + resolution,
                    GRID_PAD + c * cell : GRID_PAD + c * cell + resolution]
             for r in range(rows) for c in range(GRID_COLUMNS)]
    stack = np.stack(tiles)
    return stack[:, None] if stack.ndim == 3 else stack.transpose(0, 3, 1, 2)


def _baseline(train: np.ndarray, heldout: np.ndarray, size: int, seed: int, repeats: int = 10) -> tuple[float, float]:
    """FID of ``repeats`` random held-out subsets of ``size`` against the training features: mean, sd."""
    rng = np.random.default_rng(seed)
    size = min(size, len(heldout))
    values = [fid(train, heldout[rng.choice(len(heldout), size, replace=False)])["fid"] for _ in range(repeats)]
    return float(np.mean(values)), float(np.std(values, ddof=1))


def fid_over_steps(run_id: str, features: str = "domain", seed: int = 0) -> dict:
    """FID of every saved sample grid against the training images, with a same-size held-out baseline.

    Returns ``{"points": [{step, fid, n}], "baseline": mean, "baseline_sd", "extractor", "note"}``; scores are
    cached per grid file in the run's results folder.
    """
    folder = runs.run_dir(run_id)
    config_file = folder / "config.json"
    config = json.loads(config_file.read_text()) if config_file.is_file() else {}
    grids = sorted((int(m.group(1)), p) for p in (folder / "samples").glob("step_*.png") if (m := _STEP.search(p.name)))
    result = {"points": [], "baseline": None, "baseline_sd": None, "extractor": None,
              "note": "FID of each snapshot's fixed-noise sample grid (small n: biased upwards; compare with the "
                      "same-size held-out baseline)"}
    if not grids or not config or config.get("channels", 1) not in (1, 3):
        result["note"] = "no sample grids in this run" if not grids else "grids of multi-frame runs show one frame"
        return result
    info = get_dataset(config["dataset"])
    resolution = int(config["resolution"])
    extractor = get_extractor(features, info, resolution)
    train = real_features(extractor, info, resolution, "train")
    cache_path = runs.results_folder(run_id) / f"curve_{hashlib.sha1(extractor.key.encode()).hexdigest()[:12]}.json"
    cache = json.loads(cache_path.read_text()) if cache_path.is_file() else {}
    for step, path in grids:
        key = f"{path.name}:{path.stat().st_mtime_ns}"
        if key not in cache:
            tiles = grid_tiles(path, resolution)
            cache[key] = {"step": step, "fid": fid(train, extractor(tiles))["fid"], "n": len(tiles)}
        result["points"].append(cache[key])
    atomic_write_json(cache_path, cache)
    heldout = real_features(extractor, info, resolution, ["val", "test"])
    if len(heldout) > 2:
        result["baseline"], result["baseline_sd"] = _baseline(train, heldout, result["points"][-1]["n"], seed)
    result["extractor"] = extractor.name
    return result
