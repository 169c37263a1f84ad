"""Classifier architectures by name: a small CNN for fast CPU runs, and any timm model.

Models are trained from scratch unless a local weights file (a ``state_dict`` saved with ``torch.save``) is
given; it is loaded with ``weights_only=True``, so a weights file cannot run code.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import timm
import torch
from torch import nn

SUGGESTED_MODELS = ("small-cnn", "resnet10t", "resnet18", "efficientnet_b0")


def small_cnn(in_chans: int, num_classes: int, width: int = 16) -> nn.Module:
    """Four conv-BN-ReLU-maxpool blocks, global average pooling, dropout, linear (about 0.1 M weights)."""

    def block(c_in: int, c_out: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )

    widths = [in_chans, width, 2 * width, 4 * width, 8 * width]
    blocks = [block(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True)]
    return nn.Sequential(
        *blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(widths[-1], num_classes)
    )


CUSTOM_MODELS: dict[str, Callable[[int, int], nn.Module]] = {"small-cnn": small_cnn}


def check_model_name(name: str) -> None:
    """Raise ValueError for a name that is neither a custom model nor a timm architecture."""
    if name not in CUSTOM_MODELS and not timm.is_model(name):
        raise ValueError(
            f"unknown classifier {name!r}; try one of {list(SUGGESTED_MODELS)} or a timm model name"
        )


def create_classifier(
    name: str, in_chans: int, num_classes: int, weights_path: str | Path | None = None
) -> nn.Module:
    """A fresh classifier; with ``weights_path``, every weight whose name and shape match is loaded from it."""
    check_model_name(name)
    if name in CUSTOM_MODELS:
        model = CUSTOM_MODELS[name](in_chans, num_classes)
    else:
        model = timm.create_model(name, pretrained=False, in_chans=in_chans, num_classes=num_classes)
    if weights_path:
        load_matching_weights(model, Path(weights_path))
    return model


def load_matching_weights(model: nn.Module, path: Path) -> list[str]:
    """Copy tensors of the same name and shape from the state dict at ``path``; returns the skipped names.

    A classifier head for another number of classes, or a stem for other input channels, is skipped and
    stays freshly initialised. Raises ValueError when nothing matches (wrong file or architecture).
    """
    if not path.is_file():
        raise ValueError(f"{path}: weights file not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is reported with its reason
        raise ValueError(f"{path}: not a readable PyTorch state dict ({exc})") from exc
    state = state.get("state_dict", state) if isinstance(state, dict) else state
    if not isinstance(state, dict):
        raise ValueError(f"{path}: expected a state dict of tensors")
    own = model.state_dict()
    matching = {k: v for k, v in state.items() if k in own and getattr(v, "shape", None) == own[k].shape}
    if not matching:
        raise ValueError(f"{path}: no weight matches this architecture by name and shape")
    model.load_state_dict(matching, strict=False)
    return sorted(set(own) - set(matching))
