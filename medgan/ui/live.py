"""What the Train page's live view shows of a run, computed once per server process and shared by every
session watching it: the metrics frame (a bounded, evenly thinned set of rows), the curves (thinned to a bounded number of points), the progress line
and the latest sample grid's bytes.

Twenty tabs on one run used to read and parse the run's metrics, rebuild a pandas frame and two plotly
figures each, every 2 s; now the first poll after the run's files change does it, and the others reuse it.
An entry is trusted for :data:`FRESH_SECONDS` (the job's status lives in the database, not in the files),
then the files' sizes and mtimes say whether the metrics must be re-read; at most :data:`MAX_RUNS` runs are
kept, least recently watched dropped first, and no session keeps its own copy. The figures are
:class:`SharedFigure` s, so ``st.plotly_chart`` does not deep-copy every trace on each of those polls.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from medgan import runs
from medgan.metrics.figures import fid_curve
from medgan.train.monitor import (
    Progress,
    RunWatcher,
    latest_sample,
    loss_figure,
    metrics_files,
    progress,
    tracked_rows,
)
from medgan.train.tracking import floor_note

MAX_POINTS = 400  # per curve: enough for a smooth line, and the chart's JSON stays small at any run length
MAX_RUNS = 4
FRESH_SECONDS = 1.0


class SharedFigure(go.Figure):
    """A figure drawn unchanged by many sessions: ``st.plotly_chart`` turns a figure into a dict on every
    call (plotly's ``to_dict`` deep-copies each trace: ~3 ms for the loss curves, half of a poll's CPU);
    this one makes that dict once and hands out the same one, which callers must not modify."""

    def __init__(self, figure: go.Figure) -> None:
        super().__init__(figure)
        self._as_dict = super().to_dict()

    def to_dict(self) -> dict:
        """The figure as plotly's dict, made once (not a copy)."""
        return self._as_dict


@dataclass(frozen=True)
class LiveRun:
    """One run as the live view draws it."""

    metrics: pd.DataFrame
    state: Progress
    loss: go.Figure | None
    fid: go.Figure | None
    sample: bytes | None
    fid_note: str | None = None  # a tracked FID at its floor (medgan.train.tracking.floor_note)


def thin(metrics: pd.DataFrame, max_points: int = MAX_POINTS) -> pd.DataFrame:
    """At most ``max_points`` evenly spaced loss rows per part (the first and last kept); tracked-FID rows
    are all kept (they are few, and the best one must not be dropped)."""
    keep = []
    for _, rows in metrics.groupby("part", sort=False):
        tracked = tracked_rows(rows)
        losses = rows[~tracked]
        if len(losses) > max_points:
            losses = losses.iloc[np.unique(np.linspace(0, len(losses) - 1, max_points).round().astype(int))]
        keep += [losses, rows[tracked]]
    return pd.concat(keep).sort_index() if keep else metrics


def _files_key(run_id: str) -> tuple:
    """Size and mtime of each metrics file: what changes when the trainer appends rows."""
    key = []
    for part, path in metrics_files(run_id).items():
        try:
            stat = path.stat()
            key.append((part, stat.st_size, stat.st_mtime_ns))
        except FileNotFoundError:
            key.append((part, -1, 0))
    return tuple(key)


def _sample_bytes(run_id: str) -> bytes | None:
    path = latest_sample(run_id)
    try:
        return path.read_bytes() if path is not None else None
    except FileNotFoundError:  # replaced between the listing and the read
        return None


@dataclass
class _Entry:
    watcher: RunWatcher
    key: tuple = ()
    checked: float = 0.0
    view: LiveRun | None = None


class _LiveCache:
    """Process-wide, thread-safe cache of :class:`LiveRun` by run folder (Streamlit runs sessions in threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def get(self, run_id: str) -> LiveRun:
        folder = str(runs.run_dir(run_id))  # not the id alone: tests and workspaces may share run ids
        with self._lock:
            entry = self._entries.pop(folder, None) or _Entry(RunWatcher(run_id, max_points=MAX_POINTS))
            self._entries[folder] = entry
            while len(self._entries) > MAX_RUNS:
                self._entries.popitem(last=False)
            now = time.monotonic()
            if entry.view is None or now - entry.checked >= FRESH_SECONDS:
                entry.view = self._refresh(run_id, entry)
                entry.checked = now
            return entry.view

    @staticmethod
    def _refresh(run_id: str, entry: _Entry) -> LiveRun:
        key = _files_key(run_id)
        if entry.view is not None and key == entry.key:
            metrics, loss, fid, note = (
                entry.view.metrics,
                entry.view.loss,
                entry.view.fid,
                entry.view.fid_note,
            )
        else:
            metrics = entry.watcher.frame()
            loss = SharedFigure(loss_figure(thin(metrics))) if len(metrics) else None
            fid = SharedFigure(fid_curve(metrics)) if "fid" in metrics else None
            note = floor_note(metrics)
            entry.key = key
        state = progress(run_id, metrics, entry.watcher.elapsed())
        return LiveRun(metrics, state, loss, fid, _sample_bytes(run_id), note)

    def forget(self, run_id: str | None) -> None:
        """Drop ``run_id`` (every run when None), so the next poll reads it afresh."""
        with self._lock:
            if run_id is None:
                self._entries.clear()
            else:
                self._entries.pop(str(runs.run_dir(run_id)), None)


_CACHE = _LiveCache()


def live_run(run_id: str) -> LiveRun:
    """The shared live view of ``run_id``, at most :data:`FRESH_SECONDS` old."""
    return _CACHE.get(run_id)


def forget(run_id: str | None = None) -> None:
    """Drop the cached view of ``run_id`` (after Cancel or Resume changed it), or of every run."""
    _CACHE.forget(run_id)
