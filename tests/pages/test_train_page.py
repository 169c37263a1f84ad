"""Train page: start a background run from the page, then see its progress, loss and tracked-FID curves and
sample grid."""

from __future__ import annotations

import base64
import json
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from medgan import runs, workspace
from medgan.jobs import store
from medgan.ui import live


@pytest.mark.slow
def test_train_page_starts_a_job_and_shows_its_curves(demo_dataset, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    at = AppTest.from_file(str(workspace.REPO_ROOT / "views" / "train.py"), default_timeout=90).run()
    assert not at.exception
    assert "No GPU found" in at.info[0].value
    assert "No runs yet" in at.caption[-1].value
    at.selectbox(key="train_arch").set_value("dcgan").run()
    at.selectbox(key="train_resolution").set_value(32)
    at.number_input(key="train_batch_dcgan").set_value(4)
    at.number_input(key="train_steps_dcgan").set_value(10)
    at.number_input(key="train_track_every").set_value(5)
    at.button(key="train_start").click().run()
    assert not at.exception and not at.error
    assert "Started run" in at.success[0].value
    assert at.selectbox(key="train_pick").value in at.success[0].value  # the new run is watched at once
    job = store.list_jobs(kind="train")[0]
    deadline = time.monotonic() + 120
    while store.get_job(job.id).status in store.ACTIVE and time.monotonic() < deadline:
        time.sleep(0.5)
    assert store.get_job(job.id).status == "done", (job.folder / "worker.log").read_text()
    at.run()
    assert not at.exception
    assert at.dataframe[0].value["status"].tolist() == ["done"]
    assert "done: step 10/10" in at.get("progress")[0].proto.text
    assert len(at.get("plotly_chart")) == 2 and len(at.get("image")) == 1  # losses, tracked FID; grid
    fid_chart = json.loads(at.get("plotly_chart")[1].proto.spec)
    fid_x = next(t["x"] for t in fid_chart["data"] if t["name"] == "FID")  # plotly's binary array encoding
    assert np.frombuffer(base64.b64decode(fid_x["bdata"]), dtype=fid_x["dtype"]).tolist() == [5, 10]
    assert "real-vs-real floor" in fid_chart["layout"]["annotations"][0]["text"]
    assert at.button(key="train_resume").disabled and at.button(key="train_cancel").disabled
    assert not at.warning  # an untrained generator is far above the floor
    # a tracked FID at its floor (as on BUSI, where the in-domain CNN stops telling real from synthetic)
    metrics = runs.run_dir(at.selectbox(key="train_pick").value) / "metrics.jsonl"
    tracked = next(json.loads(line) for line in metrics.read_text().splitlines()[::-1] if '"fid"' in line)
    metrics.write_text(metrics.read_text() + json.dumps({**tracked, "fid": tracked["fid_floor"] / 2}) + "\n")
    live.forget()
    at.run()
    assert not at.exception and "reached its real-vs-real floor at step 10" in at.warning[0].value


def test_augmentation_defaults_to_the_architectures_preset(demo_dataset):
    at = AppTest.from_file(str(workspace.REPO_ROOT / "views" / "train.py"), default_timeout=60).run()
    for arch, augment in (("dcgan", "none"), ("fastgan", "ada"), ("stylegan2", "ada")):
        at.selectbox(key="train_arch").set_value(arch).run()
        assert not at.exception and at.selectbox(key=f"train_augment_{arch}").value == augment
