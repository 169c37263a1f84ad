"""Manage page (AppTest): the delete confirmation lists what goes; only the confirm button deletes."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from medgan import runs
from medgan.turing.access import PASSWORD_ENV

PAGE = str(Path(__file__).resolve().parents[2] / "views" / "manage.py")


def test_delete_asks_with_the_list_then_deletes(lab, monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception and len(at.tabs) == 4
    at.button(key="manage_run_delete").click().run()
    assert f"runs/{lab} (" in at.warning[0].value and runs.list_runs()  # shown, nothing deleted yet
    at.button(key="manage_run_confirm").click().run()
    assert not at.exception and runs.list_runs(archived=True) == []
    assert not runs.run_dir(lab).exists()


def test_rename_and_archive_a_dataset(lab, monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    from medgan.data.store import get_dataset

    at = AppTest.from_file(PAGE, default_timeout=60).run()
    picked = at.selectbox(key="manage_dataset_pick").value
    at.text_input(key=f"manage_dataset_name_{picked}").input("renamed").run()
    at.button(key="manage_dataset_rename").click().run()
    assert get_dataset(picked).name == "renamed"
    at.button(key="manage_dataset_archive").click().run()
    assert get_dataset(picked).archived
