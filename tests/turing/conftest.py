"""Fixtures for the Turing tests: a tiny stand-in generator (tests only) and a study on the demo dataset."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest


@dataclass
class FakeGenerator:
    """Has the attributes of ``medgan.generate.LoadedGenerator`` that a study uses; draws seeded noise images."""

    run_id: str = "fake-run"
    resolution: int = 64
    channels: int = 1
    class_names: list[str] = field(default_factory=lambda: ["mass", "normal"])
    conditional: bool = True
    dataset: str = "demo-phantom"
    checkpoint_sha256: str = "0" * 64
    calls: list = field(default_factory=list)

    def sample(self, n: int, *, label: str | None = None, seed: int = 0, batch_size: int = 64) -> np.ndarray:
        if self.conditional and label not in self.class_names:
            raise ValueError(f"label must be one of {self.class_names}")
        self.calls.append((n, label, seed))
        rng = np.random.default_rng([seed, self.class_names.index(label) if label else 0])
        return rng.integers(0, 256, size=(n, self.channels, self.resolution, self.resolution), dtype=np.uint8)


@pytest.fixture
def fake_generator() -> FakeGenerator:
    return FakeGenerator()


@pytest.fixture
def study(demo_dataset, fake_generator):
    """A per-class study (3 real + 3 synthetic per class = 12 images) with raters A, B, C."""
    from medgan.turing.study import StudySpec, create_study

    spec = StudySpec(
        name="pilot",
        dataset=demo_dataset.name,
        run_id="fake-run",
        n_real=3,
        n_synthetic=3,
        raters=["A", "B", "C"],
        per_class=True,
        seed=7,
    )
    return create_study(spec, generator=fake_generator)
