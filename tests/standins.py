"""A stand-in for :class:`medgan.generate.LoadedGenerator` shared by the evaluation and embedding tests."""

from __future__ import annotations

import numpy as np

from medgan.data.phantom import phantom_image


class PhantomStandIn:
    """The generator attributes evaluation and embeddings use; draws phantom images of the asked class."""

    dataset, class_names = "demo-phantom", ["mass", "normal"]
    config = {"dataset": "demo-phantom"}

    def __init__(
        self, run_id: str = "demo", step: int = 50, resolution: int = 64, checkpoint_sha256: str = "2" * 64
    ):
        self.run_id, self.step, self.resolution, self.checkpoint_sha256 = (
            run_id,
            step,
            resolution,
            checkpoint_sha256,
        )

    def sample(self, n: int, *, label: str | None = None, seed: int = 0, batch_size: int = 64) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return np.stack([phantom_image(rng, label == "mass", self.resolution)[None] for _ in range(n)])
