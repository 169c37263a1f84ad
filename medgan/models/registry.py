"""Registry of GAN architectures by name.

An architecture is a builder ``(ModelConfig) -> (generator, discriminator)`` registered with
:func:`register_arch` together with its :class:`ArchPreset` (loss, optimizer and learning rates from its
paper). Every generator maps ``(z (N, z_dim), labels (N,) | None)`` to images ``(N, C, R, R)`` in [-1, 1];
every discriminator maps ``(x, labels | None)`` to ``(logits (N,), class_logits (N, K) | None)``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, Protocol

from torch import nn

ARCH_MODULES = (
    "medgan.models.dcgan",
    "medgan.models.wgan",
    "medgan.models.sngan",
    "medgan.models.acgan",
    "medgan.models.progan",
    "medgan.models.fastgan",
    "medgan.models.stylegan2",
)
RESOLUTIONS = (32, 64, 128, 256)
LOSS_KINDS = ("bce", "wgan-clip", "wgan-gp", "hinge")


@dataclass
class ModelConfig:
    """What to build: architecture name, image size (px), channels (1, 3 or N frames), classes (0 = none).

    ``width`` is the base feature count of the networks (keep it small on CPU).
    """

    arch: str
    resolution: int
    channels: int
    n_classes: int = 0
    z_dim: int = 128
    width: int = 64

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """Build from a dict; unknown keys are an error naming them."""
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown model config keys: {', '.join(unknown)}")
        return cls(**data)


@dataclass(frozen=True)
class ArchPreset:
    """Training defaults from the architecture's paper, plus what it supports.

    loss: one of ``LOSS_KINDS`` (see :mod:`medgan.train.losses`); optimizer: ``"adam"`` or ``"rmsprop"``;
    n_critic: discriminator steps per generator step; clip: weight-clipping bound (WGAN) or ``None``;
    gp_weight: gradient-penalty weight (WGAN-GP); r1_gamma, r1_every: R1 penalty weight on real images,
    applied lazily every ``r1_every`` steps (StyleGAN2; 0 = none); real_losses: the discriminator, called as
    ``D(x, labels, real_losses=True)`` on real images, returns a third item, a dict of named loss terms to
    add (FastGAN's reconstruction); description: one line for the UI.
    """

    loss: str
    optimizer: str = "adam"
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    n_critic: int = 1
    clip: float | None = None
    gp_weight: float = 0.0
    r1_gamma: float = 0.0
    r1_every: int = 16
    real_losses: bool = False
    supports_conditional: bool = True
    requires_conditional: bool = False
    resolutions: tuple[int, ...] = RESOLUTIONS
    description: str = ""


Builder = Callable[[ModelConfig], tuple[nn.Module, nn.Module]]


@dataclass(frozen=True)
class ArchSpec:
    """A registered architecture: its name, preset and builder."""

    name: str
    preset: ArchPreset
    build: Builder


ARCHS: dict[str, ArchSpec] = {}  # filled as ARCH_MODULES import; read it through arch_names() / arch_spec()


def register_arch(name: str, preset: ArchPreset) -> Callable[[Builder], Builder]:
    """Decorator that registers a ``(ModelConfig) -> (G, D)`` builder under ``name``."""
    if preset.loss not in LOSS_KINDS:
        raise ValueError(
            f"architecture {name!r}: unknown loss {preset.loss!r}; known: {', '.join(LOSS_KINDS)}"
        )

    def wrap(build: Builder) -> Builder:
        ARCHS[name] = ArchSpec(name, preset, build)
        return build

    return wrap


def _archs() -> dict[str, ArchSpec]:
    """All registered architectures (imports the architecture modules on first call)."""
    if len(ARCHS) < len(ARCH_MODULES):
        for module in ARCH_MODULES:
            importlib.import_module(module)
    return ARCHS


def arch_names() -> list[str]:
    """Names of the registered architectures, in the order of ``ARCH_MODULES`` (then registration order)."""
    archs = _archs()
    rank = {module: i for i, module in enumerate(ARCH_MODULES)}
    return sorted(archs, key=lambda name: rank.get(archs[name].build.__module__, len(rank)))


def arch_spec(name: str) -> ArchSpec:
    """The registered architecture ``name``; ValueError naming the known ones otherwise."""
    archs = _archs()
    if name not in archs:
        raise ValueError(f"unknown architecture {name!r}; known: {', '.join(archs)}")
    return archs[name]


def preset(name: str) -> ArchPreset:
    """The training preset of architecture ``name``."""
    return arch_spec(name).preset


def validate(config: ModelConfig) -> None:
    """Raise ValueError with the reason when ``config`` cannot be built."""
    spec = arch_spec(config.arch)
    p = spec.preset
    if config.resolution not in p.resolutions:
        raise ValueError(f"{config.arch}: resolution must be one of {p.resolutions}, got {config.resolution}")
    if config.channels < 1:
        raise ValueError(f"{config.arch}: channels must be at least 1, got {config.channels}")
    if config.width < 1 or config.z_dim < 1:
        raise ValueError(
            f"{config.arch}: width and z_dim must be positive, got {config.width}, {config.z_dim}"
        )
    if config.n_classes < 0 or config.n_classes == 1:
        raise ValueError(
            f"{config.arch}: n_classes must be 0 (unconditional) or at least 2, got {config.n_classes}"
        )
    if config.n_classes and not p.supports_conditional:
        raise ValueError(f"{config.arch} does not support class-conditional training")
    if p.requires_conditional and not config.n_classes:
        raise ValueError(f"{config.arch} is class-conditional: it needs a labelled dataset (n_classes >= 2)")


class NetworkShape(Protocol):
    """What a training config says about the networks (a ``TrainConfig`` is one)."""

    arch: str
    resolution: int
    channels: int
    z_dim: int
    width: int | None

    @property
    def n_classes(self) -> int: ...


def model_config(config: NetworkShape) -> ModelConfig:
    """The network shape a training config asks for (its width, or the architecture's default)."""
    extra = {"width": config.width} if config.width else {}
    return ModelConfig(
        arch=config.arch,
        resolution=config.resolution,
        channels=config.channels,
        n_classes=config.n_classes,
        z_dim=config.z_dim,
        **extra,
    )


def build_models(config: ModelConfig) -> tuple[nn.Module, nn.Module]:
    """Build ``(generator, discriminator)`` for ``config`` (validated first)."""
    validate(config)
    return arch_spec(config.arch).build(config)


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
