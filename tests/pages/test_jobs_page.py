"""Jobs page: every job listed with its progress and ETA; cancel a queued one; a failed one shows its error."""

from __future__ import annotations

import os
from pathlib import Path

from streamlit.testing.v1 import AppTest

from medgan.jobs import store

PAGE = str(Path(__file__).resolve().parents[2] / "views" / "jobs.py")


def test_jobs_page_lists_all_kinds_with_progress_and_cancels(jobs_here):
    export = store.submit("export", {"run_id": "demo", "n": 1}, "export 1 of demo")
    evaluation = store.submit("evaluate", {"run_id": "demo"}, "evaluate demo")
    assert store.try_start(evaluation, os.getpid())
    store.set_progress(evaluation, 0.25, "features")
    failed = store.submit("import", {"source": "/nowhere", "name": "x"}, "import x")
    store.finish(failed, store.JobStatus.FAILED, error="FileNotFoundError: /nowhere: no such file or folder")
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table["kind"].tolist() == ["import", "evaluate", "export"]
    assert table["status"].tolist() == ["failed", "running", "queued"]
    row = table.set_index("kind").loc["evaluate"]
    assert row["progress"] == 0.25 and row["ETA"] != "" and row["message"] == "features"
    assert "no such file" in table.set_index("kind").loc["import"]["message"]
    at.selectbox(key="jobs_pick").set_value(export).run()
    at.button(key="jobs_cancel").click().run()
    assert store.get_job(export).status == "cancelled"
    at.multiselect(key="jobs_kinds").set_value(["export"]).run()
    assert at.dataframe[0].value["status"].tolist() == ["cancelled"]
