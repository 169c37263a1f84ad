"""An in-domain feature extractor: a small CNN trained once per dataset and resolution, cached on disk.

ImageNet features can miss what matters in medical images, so next to Inception-v3 the metrics can use
features learned from the dataset itself. The encoder (four stride-2 convolutions, global average pooling,
128 features) is trained on the train split with two heads: class cross-entropy when the dataset is
labelled, and always a coarse reconstruction of the image (16 x 16) from the features, so an unlabelled
dataset still gets a useful (autoencoder) embedding. The weights and a JSON description are written
atomically to ``<dataset folder>/feature_nets/domain_<R>px.pt`` and loaded with ``weights_only=True``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from medgan.data.store import DatasetInfo, load_images
from medgan.train.device import pick_device
from medgan.workspace import temp_path_beside

FORMAT = "medgan-domain-features/1"
FEATURE_DIM = 128
DEFAULT_STEPS = 200  # batches of 32: a few seconds on a CPU at 64 px
_RECON = 16


class DomainEncoder(nn.Module):
    """Conv encoder -> ``FEATURE_DIM`` features, with a class head and a coarse reconstruction head."""

    def __init__(self, channels: int, n_classes: int, width: int = 16) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        widths = [channels, width, width * 2, width * 4, FEATURE_DIM]
        for c_in, c_out in zip(widths[:-1], widths[1:], strict=True):
            layers += [
                nn.Conv2d(c_in, c_out, 3, stride=2, padding=1),
                nn.BatchNorm2d(c_out),
                nn.LeakyReLU(0.2),
            ]
        self.body = nn.Sequential(*layers)
        self.classify = nn.Linear(FEATURE_DIM, max(n_classes, 1))
        self.reconstruct = nn.Linear(FEATURE_DIM, channels * _RECON * _RECON)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, R, R) in [-1, 1] -> (N, FEATURE_DIM)."""
        return self.body(x).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feats = self.features(x)
        return self.classify(feats), self.reconstruct(feats).view(len(x), -1, _RECON, _RECON)


def to_unit_range(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, C, H, W) -> float32 tensor in [-1, 1]."""
    return torch.from_numpy(np.asarray(images, dtype=np.float32)) / 127.5 - 1.0


def net_path(info: DatasetInfo, resolution: int) -> Path:
    """Where the dataset's in-domain extractor for ``resolution`` is cached."""
    return info.folder / "feature_nets" / f"domain_{resolution}px.pt"


def _train(info: DatasetInfo, resolution: int, steps: int, seed: int) -> tuple[DomainEncoder, dict[str, Any]]:
    """Train the encoder on the train split; returns it (eval mode) and its description."""
    data = load_images(info, resolution=resolution, split="train")
    if len(data) < 2:
        raise ValueError(
            f"{info.folder}: dataset {info.name!r} has {len(data)} training images; need at least 2"
        )
    labelled = len(data.class_names) > 1
    device = pick_device()  # trained on the GPU when there is one, kept and saved on the CPU
    images, labels = to_unit_range(data.images).to(device), torch.from_numpy(data.label_ids).to(device)
    torch.manual_seed(seed)
    net = DomainEncoder(images.shape[1], len(data.class_names)).to(device)
    optimiser = torch.optim.Adam(net.parameters(), lr=2e-3)
    target = F.adaptive_avg_pool2d(images, _RECON)
    rng = np.random.default_rng(seed)
    net.train()
    for _ in range(steps):
        batch = torch.from_numpy(rng.choice(len(images), min(32, len(images)), replace=False)).to(device)
        x, y = images[batch], target[batch]
        if rng.random() < 0.5:  # horizontal flips: cheap augmentation for small datasets
            x, y = x.flip(-1), y.flip(-1)
        logits, recon = net(x)
        loss = F.mse_loss(recon, y)
        if labelled:
            loss = loss + F.cross_entropy(logits, labels[batch])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    net = net.cpu().eval()
    meta = {
        "heldout_accuracy": _heldout_accuracy(net, info, resolution) if labelled else None,
        "format": FORMAT,
        "dataset": info.name,
        "dataset_id": info.id,
        "resolution": resolution,
        "channels": int(images.shape[1]),
        "class_names": data.class_names,
        "labelled": labelled,
        "steps": steps,
        "seed": seed,
        "n_train": len(data),
        "objective": "class cross-entropy + 16x16 reconstruction" if labelled else "16x16 reconstruction",
    }
    return net, meta


@torch.no_grad()
def predict_ids(net: DomainEncoder, images: np.ndarray, batch: int = 256) -> np.ndarray:
    """Class ids (into the net's ``class_names``) the class head assigns to uint8 ``images`` (N, C, R, R)."""
    logits = [net(to_unit_range(images[i : i + batch]))[0] for i in range(0, len(images), batch)]
    return torch.cat(logits).argmax(1).numpy() if logits else np.empty(0, dtype=np.int64)


def _heldout_accuracy(net: DomainEncoder, info: DatasetInfo, resolution: int) -> float | None:
    """Class accuracy of the trained heads on the val + test splits (None when there are none)."""
    heldout = load_images(info, resolution=resolution, split=["val", "test"])
    if len(heldout) == 0:
        return None
    return float((predict_ids(net, heldout.images) == heldout.label_ids).mean())


def _save(path: Path, net: DomainEncoder, meta: dict[str, Any]) -> None:
    tmp = temp_path_beside(path)
    try:
        torch.save({"meta": json.dumps(meta), "state": net.state_dict()}, tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def load_or_train(
    info: DatasetInfo, resolution: int, steps: int | None = None, seed: int = 0
) -> tuple[DomainEncoder, dict]:
    """The cached extractor for (dataset, resolution), training and caching it first when absent."""
    path = net_path(info, resolution)
    if path.is_file():
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
            meta = json.loads(saved["meta"])
            net = DomainEncoder(meta["channels"], len(meta["class_names"]))
            net.load_state_dict(saved["state"])
            return net.eval(), meta
        except Exception as exc:  # noqa: BLE001 - a damaged cache is retrained, never trusted
            print(f"{path}: unreadable in-domain extractor ({type(exc).__name__}: {exc}); retraining")
    net, meta = _train(info, resolution, steps or DEFAULT_STEPS, seed)
    _save(path, net, meta)
    return net, meta
