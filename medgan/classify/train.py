"""Train one classifier with early stopping on validation loss, and predict class probabilities."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from medgan.train.device import pick_device


class TrainingCancelled(RuntimeError):
    """The caller asked to stop (job cancelled)."""


@dataclass(frozen=True)
class TrainSettings:
    """How one classifier is trained."""

    epochs: int
    patience: int
    batch_size: int
    learning_rate: float
    seed: int
    min_delta: float = 1e-3  # a validation-loss drop smaller than this does not count as improvement
    min_steps: int = 20  # batches per epoch at least (small training sets are cycled)


def to_input(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 (N, C, H, W) -> float32 in [-1, 1]."""
    batch = torch.as_tensor(np.asarray(images)) if not isinstance(images, torch.Tensor) else images
    return batch.float().div_(127.5).sub_(1.0)


def epoch_order(n_images: int, settings: TrainSettings, epoch: int) -> np.ndarray:
    """Shuffled image indices of one epoch: whole permutations until there are ``min_steps`` full batches.

    Without the minimum, an arm whose extra images make its training set larger would also get more
    optimizer updates, and a small real-only set would barely train.
    """
    rng = np.random.default_rng([settings.seed, epoch])
    n_permutations = max(1, -(-settings.min_steps * settings.batch_size // n_images))
    return np.concatenate([rng.permutation(n_images) for _ in range(n_permutations)])


def _train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    images: np.ndarray,
    labels: np.ndarray,
    settings: TrainSettings,
    epoch: int,
    should_stop: Callable[[], bool],
) -> tuple[float, float]:
    """One pass over the shuffled training set (cycled to ``min_steps`` batches); returns (mean loss, accuracy)."""
    model.train()
    order = epoch_order(len(images), settings, epoch)
    total_loss, correct = 0.0, 0
    for start in range(0, len(order), settings.batch_size):
        if should_stop():
            raise TrainingCancelled("training cancelled")
        chosen = order[start : start + settings.batch_size]
        device = next(model.parameters()).device
        target = torch.as_tensor(labels[chosen]).to(device)
        logits = model(to_input(images[chosen]).to(device))
        loss = nn.functional.cross_entropy(logits, target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total_loss += float(loss.detach()) * len(chosen)
        correct += int((logits.argmax(1) == target).sum())
    return total_loss / len(order), correct / len(order)


@torch.no_grad()
def predict_proba(model: nn.Module, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Softmax class probabilities, (N, K) float64."""
    model.eval()
    device = next(model.parameters()).device
    out = [
        torch.softmax(model(to_input(np.asarray(images[i : i + batch_size])).to(device)), 1).cpu()
        for i in range(0, len(images), batch_size)
    ]
    return torch.cat(out).double().numpy()


def _loss_and_accuracy(prob: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    picked = np.clip(prob[np.arange(len(labels)), labels], 1e-12, 1.0)
    return float(-np.log(picked).mean()), float((prob.argmax(1) == labels).mean())


def train_classifier(
    model: nn.Module,
    train_images: np.ndarray,
    train_labels: np.ndarray,
    val_images: np.ndarray,
    val_labels: np.ndarray,
    settings: TrainSettings,
    should_stop: Callable[[], bool] = lambda: False,
    on_epoch: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Train ``model`` in place and leave it at the epoch with the lowest validation loss.

    Trains on the GPU when there is one (the model stays there). Stops after ``patience`` epochs without an
    improvement of at least ``min_delta``. Returns the curves: one dict per epoch with
    epoch, train_loss, train_accuracy, val_loss, val_accuracy, improved (new best: the kept
    epoch is the last one marked).
    """
    model.to(pick_device())
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate, weight_decay=1e-4)
    curves: list[dict] = []
    best_loss, best_state, since_best = float("inf"), copy.deepcopy(model.state_dict()), 0
    for epoch in range(1, settings.epochs + 1):
        train_loss, train_acc = _train_epoch(
            model, optimizer, train_images, train_labels, settings, epoch, should_stop
        )
        val_loss, val_acc = _loss_and_accuracy(predict_proba(model, val_images), val_labels)
        improved = val_loss < best_loss - settings.min_delta
        if improved:
            best_loss, best_state, since_best = val_loss, copy.deepcopy(model.state_dict()), 0
        else:
            since_best += 1
        curves.append(
            {
                "epoch": epoch,
                "train_loss": train_loss,
                "train_accuracy": train_acc,
                "val_loss": val_loss,
                "val_accuracy": val_acc,
                "improved": improved,
            }
        )
        if on_epoch is not None:
            on_epoch(curves[-1])
        if since_best >= settings.patience:
            break
    model.load_state_dict(best_state)
    return curves
