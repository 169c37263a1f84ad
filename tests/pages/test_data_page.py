"""Data page (AppTest): the demo dataset, a server-folder import under the allowed roots, an uploaded ZIP, DICOM."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image
from pydicom.data import get_testdata_file
from streamlit.testing.v1 import AppTest

from medgan.data.ingest import ingest
from medgan.data.store import list_datasets
from medgan.data.uploads import save_uploads, unpack_uploads
from medgan.jobs import tasks

PAGE = Path(__file__).resolve().parents[2] / "views" / "data.py"


def _page() -> AppTest:
    return AppTest.from_file(str(PAGE), default_timeout=60)


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_demo_dataset_page(demo_dataset):
    at = _page().run()
    assert not at.exception
    assert _metrics(at)["Images"] == "1000" and _metrics(at)["Patients"] == "500"
    assert [s.value for s in at.subheader] == ["Preview", "Ingestion report"]
    images = at.get("image")
    assert len(images) == 2 and all(len(i.proto.imgs) == 10 for i in images)  # one preview row per class
    assert len(at.get("plotly_chart")) == 3
    assert "Every file was read." in [m.value for m in at.markdown]


def test_server_folder_import_only_under_allowed_roots(
    demo_dataset, shared_data, tmp_path, monkeypatch, jobs_here
):
    monkeypatch.setenv("MEDGAN_DATA_ROOTS", str(shared_data))
    at = _page().run()
    at.text_input(key="data_folder").input(str(tmp_path))
    at.text_input(key="data_fo_name").input("elsewhere")
    at.run()  # the button is enabled once a path and a name are given
    at.button(key="data_folder_import").click().run()
    assert "outside the allowed data roots" in at.error[0].value
    at.text_input(key="data_folder").input(str(shared_data / "brain_mri_128"))
    at.text_input(key="data_fo_name").input("brain")
    at.selectbox(key="data_fo_res").select(32)
    at.run()
    assert any("252 images, 252 patients" in w.value for w in at.warning)  # the rule's preview: image-level
    at.text_input(key="data_fo_patients").input(r"^(tumor)/Y\d").run()  # a user pattern, previewed
    assert at.dataframe[0].value.iloc[0].to_dict()["patient_id"] == "tumor"
    at.text_input(key="data_fo_patients").input("auto").run()
    at.button(key="data_folder_import").click().run()
    assert not at.exception and not at.error and at.get("progress")[0].proto.text.startswith("queued")
    assert len(jobs_here()) == 1  # the import is a background job
    at.run()  # the page (or a reload) shows the finished job's result and the new dataset
    assert not at.exception and not at.error
    assert "Imported 'brain': 252 images" in at.success[0].value
    assert at.selectbox(key="data_dataset").value == "brain" and _metrics(at)["Images"] == "252"
    assert any(w.value.startswith("Every image is its own patient") for w in at.warning)
    assert any(
        "**Duplicates**" in m.value and "22 set(s) of identical images" in m.value for m in at.markdown
    )
    at.text_input(key="data_fo_name").input("brain-unique")
    at.checkbox(key="data_fo_drop").check().run()  # the user drops the copies
    at.button(key="data_folder_import").click().run()
    assert len(jobs_here()) == 1
    at.run()
    assert not at.exception and _metrics(at)["Images"] == "207" and _metrics(at)["Skipped files"] == "45"
    assert any("dropped copies; 45 dropped" in m.value for m in at.markdown if "**Duplicates**" in m.value)


def _class_zip(n: int = 3) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for label in ("benign", "malignant"):
            for i in range(n):
                png = io.BytesIO()
                Image.fromarray(np.full((20, 20), 50 * i, np.uint8)).save(png, format="PNG")
                zf.writestr(f"{label}/{i}.png", png.getvalue())
    return buf.getvalue()


def _upload(at: AppTest, files: list[tuple[str, bytes]], name: str, replace: bool = False) -> AppTest:
    at.file_uploader(key="data_upload").set_value([(f, data, "application/zip") for f, data in files]).run()
    at.text_input(key="data_up_name").input(name).run()
    at.checkbox(key="data_up_replace").set_value(replace)
    return at.button(key="data_upload_import").click().run()


def test_upload_is_only_saved_by_the_page_and_unpacked_by_the_import_job(
    demo_dataset, workspace_home, jobs_here
):
    at = _upload(_page().run(), [("cases.zip", _class_zip())], "uploaded")
    assert not at.exception and not at.error
    (job,) = tasks.store.list_jobs(kind="import")
    assert job.status == "queued" and job.title == "import 'uploaded' from cases.zip"
    saved = Path(job.params["source"])
    assert [p.name for p in saved.iterdir()] == ["cases.zip"]  # stored as uploaded, not extracted by the page
    jobs_here()
    at.run()
    assert not at.exception and "Imported 'uploaded': 6 images" in at.success[0].value
    assert _metrics(at)["Images"] == "6" and _metrics(at)["Classes"] == "2"


def test_a_broken_zip_fails_its_job_by_name_and_loses_nothing(demo_dataset, workspace_home, jobs_here):
    # a new version of the demo, had it been readable
    at = _upload(
        _page().run(),
        [("good.zip", _class_zip(1)), ("broken.zip", b"PK\x03\x04 not really a zip")],
        "demo-phantom",
        replace=True,
    )
    assert tasks.store.list_jobs(kind="import")[0].params["replace"]
    jobs_here()
    at.run()
    (job,) = tasks.store.list_jobs(kind="import")
    assert job.status == "failed" and "broken.zip: not a readable ZIP archive" in job.error
    assert any("Import failed" in e.value and "broken.zip" in e.value for e in at.error)
    assert list((workspace_home / "uploads").iterdir()) == []  # the upload is removed ...
    # ... only
    assert _metrics(at)["Images"] == "1000" and [d.name for d in list_datasets()] == ["demo-phantom"]


def test_uploaded_zip_and_dicom_header(demo_dataset, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for label in ("benign", "malignant"):
            for i in range(3):
                png = io.BytesIO()
                Image.fromarray(np.full((20, 20), 50 * i, np.uint8)).save(png, format="PNG")
                zf.writestr(f"{label}/{i}.png", png.getvalue())
        zf.writestr("benign/notes.txt", "not an image")
    ingest(unpack_uploads(save_uploads([("upload.zip", buf.getvalue())])), "uploaded", resolution=32)
    (tmp_path / "ct").mkdir()
    for name in ("CT_small.dcm", "MR_small.dcm"):
        shutil.copy(get_testdata_file(name), tmp_path / "ct" / name)
    ingest(tmp_path / "ct", "ct", labels="none", resolution=32)
    at = _page()
    at.session_state["active_dataset"] = "uploaded"
    at.run()
    assert _metrics(at)["Images"] == "6" and _metrics(at)["Skipped files"] == "1"
    report = at.dataframe[-1].value
    assert report.to_dict("records") == [{"file": "benign/notes.txt", "reason": report["reason"][0]}]
    at.selectbox(key="data_dataset").select("ct").run()
    assert not at.exception and at.subheader[1].value == "DICOM"
    header = at.dataframe[1].value
    assert "PatientID" in set(header["keyword"]) and at.selectbox(key="data_dicom_file").options == [
        "CT_small.dcm",
        "MR_small.dcm",
    ]
    assert len(at.get("image")[-1].proto.imgs) == 9  # as imported + 8 CT window presets
