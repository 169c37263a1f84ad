"""Shared fixtures: a fresh workspace per test, the demo dataset built once, the shared data folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import torch

from tests.orthanc import orthanc  # noqa: F401 - the session's PACS fixture

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def workspace_home(tmp_path, monkeypatch) -> Path:
    """Every test gets its own empty workspace (``MEDGAN_HOME``)."""
    home = tmp_path / "workspace"
    monkeypatch.setenv("MEDGAN_HOME", str(home))
    return home


@pytest.fixture
def one_torch_thread():
    """Small convolutions run faster on one thread than on two when cores are shared."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="session")
def workspace_template(tmp_path_factory):
    """``make(name, build)``: a workspace folder in which ``build()`` ran once per test session.

    Tests copy it into their own workspace (``shutil.copytree``), so slow set-up such as ingesting a
    dataset happens once per session, not once per test.
    """

    def make(name: str, build) -> Path:
        home = tmp_path_factory.mktemp(name)
        old = os.environ.get("MEDGAN_HOME")
        os.environ["MEDGAN_HOME"] = str(home)
        try:
            build()
        finally:
            if old is None:
                os.environ.pop("MEDGAN_HOME", None)
            else:
                os.environ["MEDGAN_HOME"] = old
        return home

    return make


@pytest.fixture(scope="session")
def _demo_template(workspace_template) -> Path:
    """A workspace holding only the demo dataset, built once per test session."""
    from medgan.data.phantom import ensure_demo_dataset

    return workspace_template("demo_template", ensure_demo_dataset)


@pytest.fixture
def demo_dataset(_demo_template, workspace_home):
    """The demo dataset, copied into this test's workspace."""
    shutil.copytree(_demo_template, workspace_home, dirs_exist_ok=True)
    from medgan.data.phantom import DEMO_NAME
    from medgan.data.store import get_dataset

    return get_dataset(DEMO_NAME)


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data`` (development data); tests that need it skip only where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared development data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def _lab_template(workspace_template) -> Path:
    """Demo dataset, a second small dataset ``other`` and a run on the demo data cancelled after 3 of 8 steps
    (so it has a checkpoint but is not done), built once per session."""

    def build() -> None:
        import numpy as np
        from PIL import Image

        from medgan.data.ingest import ingest
        from medgan.data.phantom import ensure_demo_dataset
        from medgan.train.config import TrainConfig
        from medgan.train.trainer import create_run, train_run
        from medgan.workspace import home

        ensure_demo_dataset()
        src = home().parent / "other-src"
        for label in ("x", "y"):
            (src / label).mkdir(parents=True)
            for i in range(4):
                Image.fromarray(np.full((16, 16), 30 * i, np.uint8)).save(src / label / f"{i}.png")
        ingest(src, "other", resolution=32)
        config = TrainConfig.from_dict(
            {
                "dataset": "demo-phantom",
                "arch": "dcgan",
                "resolution": 32,
                "batch_size": 8,
                "steps": 8,
                "width": 8,
                "z_dim": 16,
                "ema": False,
                "sample_every": 2,
                "checkpoint_every": 2,
                "log_every": 1,
                "device": "cpu",
            }
        )
        run_id = create_run(config)
        steps = iter(range(100))
        train_run(run_id, abort_fn=lambda: next(steps) >= 3)
        (home() / "lab_run_id").write_text(run_id)

    return workspace_template("lab_template", build)


@pytest.fixture
def lab(_lab_template, workspace_home) -> str:
    """A workspace copied from ``_lab_template``; returns the id of its cancelled run."""
    shutil.copytree(_lab_template, workspace_home, dirs_exist_ok=True)
    return (workspace_home / "lab_run_id").read_text()


@pytest.fixture
def jobs_here(monkeypatch):
    """Jobs that pages submit are not started as detached workers; ``run()`` runs every queued one in this
    process (through the worker's own code path), so tests can patch what the job calls."""
    import signal

    from medgan.jobs import runner, store

    monkeypatch.setattr(store, "launch_worker", lambda job_id: 0)

    def run() -> list[str]:
        handler = signal.getsignal(signal.SIGTERM)
        queued = [job.id for job in reversed(store.list_jobs()) if job.status == store.JobStatus.QUEUED]
        try:
            for job_id in queued:
                runner.run_worker(job_id)
        finally:
            signal.signal(signal.SIGTERM, handler)
        return queued

    return run
