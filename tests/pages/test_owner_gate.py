"""The owner gate in app.py: with a password configured, no page in the navigation runs before it is
entered; a rater link still opens only the rating screen; owner actions land in the audit log."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from medgan import audit
from medgan.turing.access import PASSWORD_ENV

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
NAV_PAGES = re.findall(r'st\.Page\("(views/[\w/]+\.py)"', (ROOT / "app.py").read_text())
OWNER_PAGES = [p for p in NAV_PAGES if p != "views/rate.py"]


def test_no_pages_folder_beside_app_py():
    """Streamlit runs a file of a ``pages/`` folder beside the entry script directly on a fresh server's first
    script run (its old multipage mode), skipping app.py and its gate; the pages live in ``views/``."""
    assert not (ROOT / "pages").exists()


def test_every_page_file_is_in_the_navigation():
    files = sorted(f"views/{p.name}" for p in (ROOT / "views").glob("*.py"))
    assert sorted(NAV_PAGES) == files  # a page outside the navigation would dodge the gate in app.py
    assert len(OWNER_PAGES) >= 9


@pytest.mark.parametrize("page", OWNER_PAGES)
def test_page_does_not_run_without_the_password(page, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "letmein")
    at = AppTest.from_file(APP, default_timeout=60).run()  # switch_page needs the navigation registered
    at.switch_page(page).run()
    assert not at.exception
    assert "admin password" in at.info[0].value
    assert [t.key for t in at.text_input] == ["owner_admin_password"]  # the password box and nothing else
    assert not at.title and not at.button and not at.selectbox and not at.get("file_uploader")
    at.text_input(key="owner_admin_password").input("wrong").run()
    assert "Wrong admin password" in at.error[0].value and not at.title


def test_password_opens_every_page_for_the_session(monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "letmein")
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.text_input(key="owner_admin_password").input("letmein").run()
    assert not at.exception and at.title[0].value == "MedGAN Studio"
    at.switch_page("views/data.py").run()
    assert not at.exception and at.title[0].value == "Data"
    assert "owner_admin_password" not in [t.key for t in at.text_input]
    rows = audit.entries()
    assert "register dataset" in set(rows["action"])  # the demo made on first start
    assert rows["who"].str.startswith("owner@").any()


def test_rater_link_is_unchanged(monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "letmein")
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["rater"] = "not-a-token"
    at.run()
    assert not at.exception and not at.text_input
    assert "not valid" in at.error[0].value
