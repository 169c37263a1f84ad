"""Where and how training runs: the device, backend switches for speed, seeds and the optimizers."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

from medgan.train import distributed


def pick_device(name: str = "auto") -> torch.device:
    """``auto`` -> CUDA when present, else CPU; any other name (``cpu``, ``cuda:1``) as given."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu") if name == "auto" else torch.device(name)


def resolve_device(name: str, info: distributed.DistInfo) -> torch.device:
    """``auto`` -> the local GPU when CUDA is present, else CPU (under torchrun: this rank's GPU)."""
    name = pick_device(name).type if name == "auto" else name
    if name == "cuda" and info.enabled:
        return torch.device("cuda", info.local_rank)
    return torch.device(name)


def configure_backends(device: torch.device, reduced_precision: bool) -> None:
    """cuDNN autotuning on CUDA (fixed shapes), and TF32 matmuls/convolutions when reduced precision is
    allowed (the config's ``amp``)."""
    if device.type != "cuda":
        return
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = reduced_precision
    torch.backends.cudnn.allow_tf32 = reduced_precision


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def make_optimizer(
    name: str, params: Any, lr: float, betas: tuple[float, float], device: torch.device
) -> torch.optim.Optimizer:
    """Adam (fused into one kernel on CUDA) or RMSprop (foreach on CUDA) over ``params``."""
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, foreach=device.type == "cuda")
    return torch.optim.Adam(params, lr=lr, betas=betas, fused=device.type == "cuda")
