"""Shared fixtures: a fresh workspace per test, the demo dataset built once, the shared data folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def workspace_home(tmp_path, monkeypatch) -> Path:
    """Every test gets its own empty workspace (``MEDGAN_HOME``)."""
    home = tmp_path / "workspace"
    monkeypatch.setenv("MEDGAN_HOME", str(home))
    return home


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
