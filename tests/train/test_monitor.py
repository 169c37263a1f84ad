"""Run monitoring from files: incremental metrics reading, ETA, latest grid, loss figure."""

from __future__ import annotations

import json

from medgan import runs
from medgan.train.config import save_config
from medgan.train.monitor import (
    MetricsTail,
    RunWatcher,
    describe,
    format_eta,
    latest_sample,
    loss_figure,
    progress,
)
from tests.train.helpers import tiny_config


def test_metrics_tail_reads_only_complete_new_lines(tmp_path):
    path = tmp_path / "metrics.jsonl"
    tail = MetricsTail(path)
    assert tail.poll() == []  # no file yet
    path.write_text(json.dumps({"step": 1}) + "\n" + '{"step": 2, "loss')
    assert [r["step"] for r in tail.poll()] == [1]  # the half-written line waits
    with open(path, "a") as fh:
        fh.write('_d": 0.5}\n' + json.dumps({"step": 3}) + "\n")
    assert [r["step"] for r in tail.poll()] == [1, 2, 3]
    assert tail.offset == path.stat().st_size


def _fake_run(steps_done: int, total: int, restart_at: int | None = None) -> str:
    """A run folder with metrics every 10 steps at 0.5 s a step; ``restart_at``: time restarts at 0 there,
    as runs resumed before the time was carried over across resumes."""
    run_id = "20260101-000000-dcgan-abcdef"
    folder = runs.run_dir(run_id)
    folder.mkdir(parents=True)
    save_config(tiny_config(steps=total), folder)
    runs.write_status(folder, "running", steps_done, total)
    rows = [
        {
            "step": s,
            "time": (s - (restart_at or 0) * (s > (restart_at or total))) * 0.5,
            "images_per_sec": 64.0,
            "loss_d": 1.0,
            "loss_g": 2.0,
            "ada_p": 0.0,
        }
        for s in range(10, steps_done + 1, 10)
    ]
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return run_id


def test_progress_eta_and_figure():
    run_id = _fake_run(steps_done=100, total=300)
    metrics = RunWatcher(run_id).frame()
    state = progress(run_id, metrics)
    assert (state.status, state.step, state.total_steps) == ("running", 100, 300)
    assert abs(state.fraction - 1 / 3) < 1e-9
    assert state.images_per_sec == 64.0 and abs(state.eta_seconds - 100.0) < 1e-6  # 200 steps at 0.5 s
    figure = loss_figure(metrics)
    assert [t.name for t in figure.data] == ["loss_d", "loss_g"]  # ADA p hidden while 0
    assert latest_sample(run_id) is None
    assert state.elapsed_seconds == 50.0
    assert describe(state) == "running: step 100/300, 64 images/s, 50 s elapsed, ETA 1 min 40 s"


def test_run_watcher_appends_only_new_lines_to_its_frame():
    run_id = _fake_run(steps_done=100, total=300)
    watcher = RunWatcher(run_id)
    assert watcher.frame()["step"].tolist() == list(range(10, 101, 10))
    with open(runs.run_dir(run_id) / "metrics.jsonl", "a") as fh:
        fh.write(json.dumps({"step": 110, "time": 55.0, "fid": 40.0}) + "\n")
    metrics = watcher.frame()
    assert metrics["step"].tolist()[-2:] == [100, 110] and metrics["fid"].notna().sum() == 1
    assert watcher.tails[""].rows == []  # parsed rows live in the frame only, not also as dicts


def test_eta_and_elapsed_right_after_a_resume_that_restarted_the_time():
    """Before, the ETA summed absolute time differences, so the jump back to 0 at a resume doubled it."""
    state = progress(
        run_id := _fake_run(steps_done=100, total=300, restart_at=60), RunWatcher(run_id).frame()
    )
    assert abs(state.eta_seconds - 100.0) < 1e-6  # still 200 steps at 0.5 s
    assert abs(state.elapsed_seconds - 45.0) < 1e-6  # 10 -> 60 and 70 -> 100, plus the first row's 5 s


def test_a_starting_run_says_what_it_is_doing():
    run_id = _fake_run(steps_done=0, total=300)
    runs.write_status(runs.run_dir(run_id), "starting", 0, 300, phase="loading data")
    state = progress(run_id, RunWatcher(run_id).frame())
    assert state.phase == "loading data" and describe(state) == "starting: loading data"


def test_format_eta():
    assert [format_eta(s) for s in (None, 42, 185, 3725)] == ["unknown", "42 s", "3 min 05 s", "1 h 02 min"]


def test_a_bounded_watcher_keeps_evenly_spaced_rows_and_the_exact_elapsed_time():
    run_id = _fake_run(steps_done=4000, total=9000, restart_at=1500)
    path = runs.run_dir(run_id) / "metrics.jsonl"
    bounded, full = RunWatcher(run_id, max_points=50), RunWatcher(run_id)
    bounded.frame()
    with open(path, "a") as fh:  # more rows in small appends, as a training run writes them
        for step in range(4010, 9001, 10):
            fh.write(json.dumps({"step": step, "time": (step - 1500) * 0.5, "images_per_sec": 64.0}) + "\n")
            if step % 1000 == 0:
                fh.write(json.dumps({"step": step, "time": (step - 1500) * 0.5, "fid": step / 100}) + "\n")
            if step % 370 == 0:
                fh.flush()
                bounded.frame()
    thinned, everything = bounded.frame(), full.frame()
    losses = thinned[thinned["fid"].isna()]
    assert len(everything) == 905 and len(losses) <= 2 * 50 + 10
    older = losses["step"].iloc[:-10].diff().dropna()
    assert older.nunique() == 1  # evenly spaced: every stride-th row
    assert losses["step"].iloc[-10:].tolist() == list(range(8910, 9001, 10))  # the latest rows whole
    assert thinned["fid"].dropna().tolist() == [50.0, 60.0, 70.0, 80.0, 90.0]
    assert bounded.elapsed() == progress(run_id, everything).elapsed_seconds  # every row's time, not the kept
    state, exact = progress(run_id, thinned, bounded.elapsed()), progress(run_id, everything)
    assert (state.eta_seconds, state.images_per_sec) == (exact.eta_seconds, exact.images_per_sec)
