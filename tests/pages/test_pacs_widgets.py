"""Data page "From PACS" tab and Export page "Send to PACS" button (AppTest) against a real Orthanc."""

from __future__ import annotations

from pathlib import Path

import pydicom
import requests
from pydicom.data import get_testdata_file
from streamlit.testing.v1 import AppTest

from medgan import workspace
from tests.orthanc import PASSWORD, USER

PAGES = workspace.REPO_ROOT / "views"


def _login(monkeypatch) -> None:
    monkeypatch.setenv("MEDGAN_PACS_USER", USER)
    monkeypatch.setenv("MEDGAN_PACS_PASSWORD", PASSWORD)


def test_from_pacs_tab_searches_and_imports(demo_dataset, orthanc, monkeypatch, jobs_here):
    _login(monkeypatch)
    path = Path(get_testdata_file("MR_small_RLE.dcm"))
    requests.post(
        f"{orthanc.url}/instances", data=path.read_bytes(), auth=orthanc.auth, timeout=30
    ).raise_for_status()
    patient = str(pydicom.dcmread(path).PatientID)
    at = AppTest.from_file(str(PAGES / "data.py"), default_timeout=60).run()
    at.text_input(key="data_pacs_url").input(orthanc.dicomweb)
    at.text_input(key="data_pacs_patient").input(patient)
    at.run()  # the Search button is enabled once a URL is given
    at.button(key="data_pacs_search").click().run()
    assert not at.exception and not at.error
    assert at.multiselect(key="data_pacs_studies").value == [str(pydicom.dcmread(path).StudyInstanceUID)]
    at.text_input(key="data_pacs_name").input("from-pacs")
    at.selectbox(key="data_pacs_res").select(32)
    at.run()
    at.button(key="data_pacs_import").click().run()
    assert not at.exception and not at.error and len(jobs_here()) == 1
    at.run()
    assert "Imported 'from-pacs': 1 images" in at.success[0].value


def test_search_error_is_shown(demo_dataset, monkeypatch):
    _login(monkeypatch)
    at = AppTest.from_file(str(PAGES / "data.py"), default_timeout=60).run()
    at.text_input(key="data_pacs_url").input("http://127.0.0.1:9/dicom-web").run()
    at.button(key="data_pacs_search").click().run()
    assert "cannot connect" in at.error[0].value


def test_send_to_pacs_button(orthanc, monkeypatch, jobs_here):
    _login(monkeypatch)
    page = str(PAGES / "export.py")
    at = AppTest.from_file(page, default_timeout=90).run()
    at.number_input(key="export_n").set_value(2)
    at.selectbox(key="export_format").set_value("dicom")
    at.number_input(key="export_seed").set_value(11)
    at.button(key="export_go").click().run()
    jobs_here()
    at = AppTest.from_file(page, default_timeout=90).run()
    before = set(orthanc.get("/patients"))
    at.text_input(key="export_pacs_url").input(orthanc.dicomweb).run()
    at.button(key="export_pacs_go").click().run()
    assert not at.exception and len(jobs_here()) == 1
    at.run()
    assert not at.exception and not at.error
    assert (
        f"{orthanc.dicomweb} accepted 4 instance(s)" in at.success[-1].value
        and "0 refused" in at.success[-1].value
    )
    assert len(set(orthanc.get("/patients")) - before) == 1
