"""Fixtures for the metrics tests: stand-in generators (tests only) and the demo dataset with its in-domain
feature extractor trained once per session."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch

from medgan.data.phantom import phantom_image


@pytest.fixture(autouse=True)
def _metrics_on_one_thread(one_torch_thread):
    """Every metrics test runs on one torch thread (``one_torch_thread`` in tests/conftest.py)."""


@dataclass
class PhantomGenerator:
    """The attributes of ``LoadedGenerator`` the metrics use. ``mode``: ``phantom`` draws new images from the
    demo data's own process (a perfect generator), ``noise`` draws uniform noise (an untrained one), ``swapped``
    draws perfect images of the other class (a generator whose labels are crossed)."""

    mode: str = "phantom"
    run_id: str = "fake-run"
    step: int = 100
    resolution: int = 64
    channels: int = 1
    class_names: list[str] = field(default_factory=lambda: ["mass", "normal"])
    dataset: str = "demo-phantom"
    checkpoint_sha256: str = "0" * 64
    config: dict = field(default_factory=lambda: {"dataset": "demo-phantom"})
    planted: dict[int, np.ndarray] = field(default_factory=dict)  # sample index -> image to return there

    def sample(self, n: int, *, label: str | None = None, seed: int = 0, batch_size: int = 64) -> np.ndarray:
        if label not in self.class_names:
            raise ValueError(f"label must be one of {self.class_names}")
        rng = np.random.default_rng([seed, 99])
        if self.mode == "noise":
            out = rng.integers(0, 256, (n, 1, self.resolution, self.resolution), dtype=np.uint8)
        else:
            mass = (label == "mass") != (self.mode == "swapped")
            out = np.stack([phantom_image(rng, mass, self.resolution)[None] for _ in range(n)])
        for index, image in self.planted.items():
            if index < n:
                out[index] = image
        return out


@pytest.fixture(scope="session")
def _domain_nets(_demo_template, tmp_path_factory) -> Path:
    """The demo dataset's in-domain extractor at 64 px, trained once per test session."""
    home = tmp_path_factory.mktemp("domain_template")
    shutil.copytree(_demo_template, home, dirs_exist_ok=True)
    old = os.environ.get("MEDGAN_HOME")
    os.environ["MEDGAN_HOME"] = str(home)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        from medgan.data.phantom import DEMO_NAME
        from medgan.data.store import get_dataset
        from medgan.metrics.domain import load_or_train, net_path

        info = get_dataset(DEMO_NAME)
        load_or_train(info, 64)
        return net_path(info, 64).parent
    finally:
        torch.set_num_threads(threads)
        if old is None:
            os.environ.pop("MEDGAN_HOME", None)
        else:
            os.environ["MEDGAN_HOME"] = old


@pytest.fixture
def demo_with_domain(demo_dataset, _domain_nets):
    """The demo dataset in this test's workspace, with the session's trained in-domain extractor."""
    shutil.copytree(_domain_nets, demo_dataset.folder / "feature_nets", dirs_exist_ok=True)
    return demo_dataset


@pytest.fixture
def make_generator():
    """Factory for stand-in generators: ``make_generator(mode="noise", planted={...})``."""
    return PhantomGenerator
