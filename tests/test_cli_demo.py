"""Every ``python -m medgan`` command that takes ``--run demo`` works on an empty workspace: the phantom demo
dataset is made on first use where the command needs real images (the README's first examples)."""

from __future__ import annotations

import json
import shlex
import zipfile

import pytest

from medgan.__main__ import main
from medgan.data.phantom import DEMO_NAME
from medgan.data.store import DatasetNotFound, get_dataset

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _run(capsys, command: str) -> dict:
    """Run ``python -m medgan COMMAND --json``; returns its JSON output."""
    code = main([*shlex.split(command), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out.strip().splitlines()[-1])


def _assert_empty(workspace_home) -> None:
    with pytest.raises(DatasetNotFound):
        get_dataset(DEMO_NAME)
    assert not (workspace_home / "datasets").exists()


def test_generate_and_export_need_no_dataset(workspace_home, tmp_path, capsys):
    _assert_empty(workspace_home)
    out = _run(capsys, f"generate --run demo --n 3 --out {tmp_path / 'png'}")
    assert out["n"] == 3 and len(list((tmp_path / "png").glob("*.png"))) == 3
    zip_path = tmp_path / "demo.zip"
    _run(capsys, f"export --run demo --n 4 --out {zip_path}")
    with zipfile.ZipFile(zip_path) as archive:
        assert len([n for n in archive.namelist() if n.endswith(".png")]) == 4


def test_evaluate_makes_the_demo_dataset(workspace_home, capsys):
    _assert_empty(workspace_home)
    out = _run(capsys, "evaluate --run demo --n 24")
    assert out["dataset"] == DEMO_NAME and out["n_synthetic"] == 24
    assert get_dataset(DEMO_NAME).n_images > 0


def test_turing_create_makes_the_demo_dataset(workspace_home, capsys):
    _assert_empty(workspace_home)
    out = _run(capsys, "turing create --name first --run demo --real 3 --synthetic 3 --raters A")
    assert out["n_images"] == 6 and get_dataset(DEMO_NAME).n_images > 0


def test_compare_makes_the_demo_dataset(workspace_home, capsys):
    _assert_empty(workspace_home)
    small = "--arms real,real+synthetic --folds 2 --epochs 1 --synthetic-per-class 4 --resolution 16"
    out = _run(capsys, f"compare --run demo {small}")
    assert out["result_file"].endswith("comparison.json") and "| real+synthetic |" in out["table_markdown"]
