"""Compare page (AppTest): two runs side by side, table and curves; best marked only among one dataset's runs."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from medgan import runs
from medgan.train.config import TrainConfig
from medgan.train.trainer import create_run, train_run

PAGE = str(Path(__file__).resolve().parents[2] / "views" / "compare.py")


def _add_tracked_fid(run_id: str, values: list[tuple[int, float]]) -> None:
    """Rows as the FID tracker writes them (medgan.train.tracking): fid and its real-vs-real floor."""
    with open(runs.run_dir(run_id) / "metrics.jsonl", "a") as fh:
        for step, fid in values:
            fh.write(
                json.dumps({"step": step, "fid": fid, "fid_floor": 1.5, "kid": fid / 100, "best": True})
                + "\n"
            )


def test_two_runs_side_by_side_with_the_best_marked(lab):
    second = create_run(
        TrainConfig.from_dict(
            {
                "dataset": "demo-phantom",
                "arch": "dcgan",
                "resolution": 32,
                "batch_size": 4,
                "steps": 2,
                "width": 8,
                "z_dim": 16,
                "ema": False,
                "device": "cpu",
                "log_every": 1,
            }
        )
    )
    train_run(second)
    _add_tracked_fid(lab, [(2, 80.0), (3, 60.0)])
    _add_tracked_fid(second, [(2, 95.0)])
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert set(at.multiselect(key="compare_runs").value) == {lab, second}
    table = at.dataframe[0].value.set_index("run")
    assert table.loc[lab, "best"] and not table.loc[second, "best"]
    assert table.loc[lab, "best tracked FID"] == 60.0 and table.loc[lab, "best checkpoint step"] == 3
    assert table.loc[lab, "status"] == "cancelled" and table.loc[second, "status"] == "done"
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert sorted(titles) == ["fid", "images_per_sec", "kid", "loss_d", "loss_g"]
    fid = json.loads(at.get("plotly_chart")[titles.index("fid")].proto.spec)
    assert sorted(t["name"] for t in fid["data"]) == sorted([lab, second])
    at.multiselect(key="compare_runs").set_value([second]).run()
    assert at.dataframe[0].value["run"].tolist() == [second]
