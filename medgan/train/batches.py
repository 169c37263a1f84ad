"""Training batches straight from a dataset's uint8 cache: no per-image decoding, no DataLoader workers.

The whole uint8 array is held once (on the GPU when it fits, else in RAM); a batch is one fancy index plus
a scale to [-1, 1]. The order is a function of ``(seed, step)`` only (one permutation per epoch), so a
resumed run sees exactly the batches an uninterrupted one would, and under DDP each rank takes its own
slice of the same global batch.
"""

from __future__ import annotations

import numpy as np
import torch

GPU_RESIDENT_BYTES = 2 << 30  # keep datasets up to 2 GiB of uint8 on the GPU


def to_unit_range(images_uint8: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float32 [-1, 1]."""
    return images_uint8.float().mul_(2.0 / 255.0).sub_(1.0)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """float [-1, 1] (any device/dtype) -> uint8 numpy array of the same shape."""
    scaled = (images.detach().float().clamp(-1, 1) + 1) * 127.5
    return scaled.round().to(torch.uint8).cpu().numpy()


class BatchSource:
    """Deterministic batches of ``(images [-1, 1], label ids)`` for a given step."""

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        batch_size: int,
        seed: int,
        device: torch.device,
        rank: int = 0,
        world_size: int = 1,
        channels_last: bool = False,
    ) -> None:
        if len(images) == 0:
            raise ValueError("the dataset selection holds no images")
        self.n = len(images)
        self.batch_size, self.seed = batch_size, seed
        self.rank, self.world_size = rank, world_size
        self.device, self.channels_last = device, channels_last
        on_gpu = device.type == "cuda" and images.nbytes <= GPU_RESIDENT_BYTES
        store_device = device if on_gpu else torch.device("cpu")
        self.images = torch.from_numpy(np.ascontiguousarray(images)).to(store_device)
        self.labels = torch.from_numpy(np.asarray(labels, dtype=np.int64)).to(store_device)
        self._epoch, self._perm = -1, np.empty(0, dtype=np.int64)

    def _permutation(self, epoch: int) -> np.ndarray:
        if epoch != self._epoch:
            self._epoch, self._perm = epoch, np.random.default_rng([self.seed, epoch]).permutation(self.n)
        return self._perm

    def indices(self, step: int) -> np.ndarray:
        """Dataset rows of this rank's part of the global batch at ``step``."""
        global_size = self.batch_size * self.world_size
        start = step * global_size + self.rank * self.batch_size
        positions = np.arange(start, start + self.batch_size)
        out = np.empty(self.batch_size, dtype=np.int64)
        for epoch in np.unique(positions // self.n):
            mask = positions // self.n == epoch
            out[mask] = self._permutation(int(epoch))[positions[mask] % self.n]
        return out

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(images, labels)`` on the training device for ``step``."""
        idx = torch.from_numpy(self.indices(step)).to(self.images.device)
        images = self.images.index_select(0, idx).to(self.device, non_blocking=True)
        labels = self.labels.index_select(0, idx).to(self.device, non_blocking=True)
        images = to_unit_range(images)
        if self.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        return images, labels
