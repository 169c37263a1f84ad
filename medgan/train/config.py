"""The training configuration: one typed dataclass, saved as ``config.json`` in every run folder.

Loading rejects unknown keys, so a typo in a hand-edited config fails loudly instead of being ignored.
:func:`default_config` gives per-architecture presets: small on CPU, larger on a GPU, same code path.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any

from medgan import workspace

CONFIG_FILE = "config.json"
RESOLUTIONS = (32, 64, 128, 256)
DEFAULT_ARCH = "fastgan"  # lowest FID per CPU-minute in bench/quality.py (README, Benchmarks)
TRACK_EVERY = 100  # measured: tracking costs < 10 % of the training time at this interval (README)


class Conditioning(StrEnum):
    """How labels are used: ignored, fed to one model, or one model per class."""

    NONE = "none"
    CONDITIONAL = "conditional"
    PER_CLASS = "per-class"


class Augment(StrEnum):
    """Small-data augmentation of what the discriminator sees."""

    NONE = "none"
    DIFFAUGMENT = "diffaugment"
    ADA = "ada"


@dataclass
class TrainConfig:
    """Everything a run needs to be reproduced. ``channels``, ``stack`` and ``class_names`` come from the dataset;
    ``stack``: the channels are adjacent slices of a 2.5D stack, not colours (configs from before it: False)."""

    dataset: str
    arch: str = "dcgan"
    resolution: int = 64
    channels: int = 1
    stack: bool = False
    class_names: list[str] = field(default_factory=list)
    conditional: str = Conditioning.NONE
    batch_size: int = 32
    steps: int = 2000
    augment: str = Augment.NONE
    ema: bool = True
    ema_kimg: float = 10.0
    seed: int = 0
    sample_every: int = 100
    checkpoint_every: int = 200
    log_every: int = 10
    lr_g: float | None = None
    lr_d: float | None = None
    width: int | None = None
    z_dim: int = 100
    grow_steps: int | None = None  # ProGAN: steps the growing takes (default: all); then full size
    device: str = "auto"
    amp: bool = (
        True  # CUDA: bf16/fp16 autocast and TF32; CPU: bf16 autocast on AMX or AVX512-BF16 units (oneDNN)
    )
    sync_bn: bool = False  # CUDA under torchrun: BatchNorm statistics over all ranks' batches
    compile: bool = False  # torch.compile the networks (off by default: not yet measured to help)
    split: str | None = "train"
    only_class: str | None = None
    dataset_id: str = (
        ""  # the exact dataset version trained on, with its manifest's SHA-256 (set by create_run)
    )
    dataset_fingerprint: str = ""
    track_every: int = TRACK_EVERY  # steps between tracked FID/KID (medgan.train.tracking); 0 = off
    track_n: int = 256
    track_features: str = "domain"

    def __post_init__(self) -> None:
        self.conditional = Conditioning(self.conditional).value
        self.augment = Augment(self.augment).value
        if self.resolution not in RESOLUTIONS:
            raise ValueError(f"resolution must be one of {RESOLUTIONS}, got {self.resolution}")
        for name in ("batch_size", "steps", "sample_every", "checkpoint_every", "log_every", "channels"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.track_every < 0 or self.track_n < 16:
            raise ValueError(
                f"track_every must be >= 0 and track_n >= 16, got {self.track_every}, {self.track_n}"
            )

    @property
    def n_classes(self) -> int:
        """Classes the model is conditioned on (0 when it is not conditional)."""
        return len(self.class_names) if self.conditional == Conditioning.CONDITIONAL else 0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Build from a dict; unknown keys are an error naming them."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown training config keys: {', '.join(unknown)}")
        return cls(**data)


def save_config(config: TrainConfig, run_dir: Path) -> Path:
    """Write ``config.json`` into the run folder atomically."""
    path = Path(run_dir) / CONFIG_FILE
    workspace.atomic_write_json(path, config.to_dict())
    return path


def load_config(run_dir: Path) -> TrainConfig:
    """Read a run folder's ``config.json``; errors name the file and the reason."""
    path = Path(run_dir) / CONFIG_FILE
    try:
        data = json.loads(path.read_text())
        return TrainConfig.from_dict(data)
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"{path}: no training config (not a run folder?)") from exc
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: {exc}") from exc


# Per-architecture presets: (CPU, GPU) overrides of the dataclass defaults. Widths are the base channel
# count of the networks; WGAN-style critics train several critic steps per generator step, so fewer steps.
_PRESETS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "dcgan": (
        {"batch_size": 32, "steps": 1500, "width": 32},
        {"batch_size": 64, "steps": 20000, "width": 64},
    ),
    "wgan": ({"batch_size": 32, "steps": 1000, "width": 32}, {"batch_size": 64, "steps": 20000, "width": 64}),
    "wgan-gp": (
        {"batch_size": 32, "steps": 1000, "width": 32},
        {"batch_size": 64, "steps": 20000, "width": 64},
    ),
    "sngan": (
        {"batch_size": 32, "steps": 1500, "width": 32},
        {"batch_size": 64, "steps": 20000, "width": 64},
    ),
    "acgan": (
        {"batch_size": 32, "steps": 1500, "width": 32, "conditional": "conditional"},
        {"batch_size": 64, "steps": 20000, "width": 64, "conditional": "conditional"},
    ),
    "progan": (
        {"batch_size": 16, "steps": 2000, "width": 32},
        {"batch_size": 32, "steps": 40000, "width": 128},
    ),
    "fastgan": (
        {"batch_size": 16, "steps": 1500, "width": 8, "augment": "ada"},  # ADA: README, lr/augmentation sweep
        {"batch_size": 16, "steps": 20000, "width": 32, "augment": "ada"},
    ),
    "stylegan2": (
        {"batch_size": 16, "steps": 1500, "width": 12, "augment": "ada"},
        {"batch_size": 32, "steps": 20000, "width": 64, "augment": "ada"},
    ),
}


def architectures() -> list[str]:
    """Architectures with presets (the registry's names)."""
    return list(_PRESETS)


def preset_overrides(arch: str, gpu: bool) -> dict[str, Any]:
    """Preset fields for ``arch`` on CPU or GPU."""
    if arch not in _PRESETS:
        raise ValueError(f"unknown architecture {arch!r}; known: {', '.join(_PRESETS)}")
    cpu, big = _PRESETS[arch]
    return dict(big if gpu else cpu)


def default_config(dataset: str, arch: str, gpu: bool = False, **overrides: Any) -> TrainConfig:
    """A config for ``dataset`` with the architecture's preset, then ``overrides`` (None values ignored)."""
    values: dict[str, Any] = {"dataset": dataset, "arch": arch, **preset_overrides(arch, gpu)}
    values.update({k: v for k, v in overrides.items() if v is not None})
    return TrainConfig.from_dict(values)


def gpu_available() -> bool:
    """True when CUDA is usable (imports torch only when asked)."""
    import torch

    return torch.cuda.is_available()
