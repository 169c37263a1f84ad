"""Export page: pick the demo run, export a small ZIP, see it listed with a download button and its datasheet."""

from __future__ import annotations

import zipfile

from streamlit.testing.v1 import AppTest

from medgan import workspace

PAGE = str(workspace.REPO_ROOT / "views" / "export.py")


def test_export_page_writes_lists_and_offers_the_zip(jobs_here):
    at = AppTest.from_file(PAGE, default_timeout=90).run()
    assert not at.exception
    assert at.selectbox(key="export_run").value == "demo"
    assert "No exports yet" in at.info[0].value
    at.number_input(key="export_n").set_value(2)
    at.selectbox(key="export_format").set_value("both")
    at.button(key="export_go").click().run()
    assert not at.exception and not at.error and at.get("progress")[0].proto.text.startswith("queued")
    assert len(jobs_here()) == 1
    at = AppTest.from_file(PAGE, default_timeout=90).run()  # a reload shows the finished job's result
    assert not at.exception and not at.error
    exports = sorted((workspace.home() / "exports").iterdir())
    assert [p.name for p in exports] == ["demo_2-per-class_both_seed0.zip"]  # no temp file left behind
    assert "demo_2-per-class_both_seed0.zip" in at.success[0].value
    with zipfile.ZipFile(exports[0]) as archive:
        names = archive.namelist()
    assert sum(n.endswith(".png") for n in names) == 4 and sum(n.endswith(".dcm") for n in names) == 4
    assert len(at.get("download_button")) == 1
    assert "not for diagnosis" in at.expander[0].markdown[0].value
