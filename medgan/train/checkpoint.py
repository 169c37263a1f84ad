"""Atomic, code-free checkpoints: tensors and JSON only, loaded with ``torch.load(weights_only=True)``.

A checkpoint holds everything needed to continue a run exactly: step, both networks and optimizers, the
EMA generator, ADA's p, the AMP grad scaler and the random states (Python, NumPy, torch CPU and CUDA) of
every rank. Nothing in it is pickled code, so a checkpoint someone uploads cannot run anything when it is
opened. Load on the CPU (the default) and let ``load_state_dict`` move tensors to the training device:
random states must stay CPU tensors, whatever device trained or resumes the run.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from medgan.workspace import remove_stale_temp, temp_path_beside

FORMAT = "medgan-checkpoint/1"
LATEST = "latest.pt"
BEST = "best.pt"  # lowest tracked FID (medgan.train.tracking)


def capture_rng(device: torch.device | None = None) -> dict[str, Any]:
    """Random states of Python, NumPy, torch's CPU generator and, when ``device`` is a GPU, that GPU's
    (only this process's GPU: asking for every GPU's would open a CUDA context on each, from every rank)."""
    version, mt_state, gauss = random.getstate()
    np_name, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    state: dict[str, Any] = {
        "python": json.dumps([version, list(mt_state), gauss]),
        "numpy_keys": torch.from_numpy(np.asarray(np_keys, dtype=np.int64)),
        "numpy_meta": json.dumps([np_name, int(np_pos), int(np_has_gauss), float(np_gauss)]),
        "torch": torch.get_rng_state(),
    }
    if device is not None and device.type == "cuda":
        state["cuda"] = [torch.cuda.get_rng_state(device)]
    return state


def restore_rng(state: dict[str, Any], device: torch.device | None = None) -> None:
    """Put back the random states saved by :func:`capture_rng` (their tensors may sit on any device); the
    GPU state goes to ``device`` when it is a GPU."""
    version, mt_state, gauss = json.loads(state["python"])
    random.setstate((version, tuple(mt_state), gauss))
    np_name, np_pos, np_has_gauss, np_gauss = json.loads(state["numpy_meta"])
    keys = state["numpy_keys"].cpu().numpy().astype(np.uint32)
    np.random.set_state((np_name, keys, np_pos, np_has_gauss, np_gauss))
    torch.set_rng_state(state["torch"].cpu())
    if state.get("cuda") and device is not None and device.type == "cuda":
        torch.cuda.set_rng_state(state["cuda"][0].cpu(), device)


def save_checkpoint(path: Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (tensors, numbers, strings, lists, dicts) atomically: temp file + ``os.replace``."""
    path = Path(path)
    tmp = temp_path_beside(path)
    try:
        torch.save({"format": FORMAT, **payload}, tmp)
        os.replace(tmp, path)
        remove_stale_temp(path.parent, prefix=f".{path.name}.", older_than=60)  # left by a killed save
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint without running any code in it; errors name the file and the reason."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint not found")
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        raise ValueError(f"{path}: not a readable MedGAN checkpoint ({type(exc).__name__}: {exc})") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(
            f"{path}: not a MedGAN checkpoint (format {data.get('format') if isinstance(data, dict) else '?'})"
        )
    return data
