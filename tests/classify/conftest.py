"""Fixtures for the classifier comparison: a real dataset at 32 px and a phantom generator (tests only)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from medgan.data.phantom import phantom_image

BRAIN = "brain-mri-32"


class PhantomGenerator:
    """Stands in for :class:`medgan.generate.LoadedGenerator` in tests: phantom images per class.

    ``value`` makes every image one constant grey level instead, so a test can spot synthetic images;
    ``dataset`` and ``split`` say what it was (notionally) trained on.
    """

    def __init__(
        self,
        class_names: list[str],
        value: int | None = None,
        run_id: str = "phantom-run",
        dataset: str = "",
        split: str | None = "train",
    ) -> None:
        self.run_id, self.class_names, self.channels, self.resolution = run_id, list(class_names), 1, 64
        self.arch, self.step, self.dataset, self.conditional = "phantom", 0, dataset, True
        self.config = {"split": split, "dataset": dataset}
        self.checkpoint_sha256 = "0" * 64
        self.value = value

    def sample(self, n: int, *, label: str | None = None, seed: int = 0, batch_size: int = 64) -> np.ndarray:
        if label not in self.class_names:
            raise ValueError(f"unknown class {label!r}")
        if self.value is not None:
            return np.full((n, 1, 64, 64), self.value, dtype=np.uint8)
        rng = np.random.default_rng(seed)
        first = label == self.class_names[0]
        return np.stack([phantom_image(rng, first, 64)[None] for _ in range(n)])


@pytest.fixture(scope="session")
def _brain_template(workspace_template) -> Path:
    """A workspace holding brain_mri_128 from ../shared/data ingested at 32 px, built once per session."""
    source = Path(__file__).resolve().parents[3] / "shared" / "data" / "brain_mri_128"
    if not source.is_dir():
        pytest.skip(f"shared development data not found at {source}")
    from medgan.data.ingest import ingest

    return workspace_template(
        "brain_template", lambda: ingest(source, BRAIN, labels="folders", resolution=32, channels="gray")
    )


@pytest.fixture
def brain_dataset(_brain_template, workspace_home):
    """The brain MRI set (252 images, tumor / no_tumor, one image per patient) in this test's workspace."""
    shutil.copytree(_brain_template, workspace_home, dirs_exist_ok=True)
    from medgan.data.store import get_dataset

    return get_dataset(BRAIN)


@pytest.fixture
def phantom_generator() -> type[PhantomGenerator]:
    """The :class:`PhantomGenerator` class (tests build one with the dataset's class names)."""
    return PhantomGenerator
