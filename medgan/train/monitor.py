"""Watching a run from its files (for the live Train page and the CLI): metrics.jsonl read incrementally,
progress with ETA and images per second, the latest sample grid, loss curves as a plotly figure.

Plain functions over the run folder, no Streamlit and no torch, so they are tested directly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from medgan import runs
from medgan.chartstyle import legend_below

CURVES = ("loss_d", "loss_g", "d_real", "d_fake", "ada_p")


def metrics_files(run_id: str) -> dict[str, Path]:
    """metrics.jsonl of a run, by part: ``""`` for the run, the class name for each per-class model."""
    folder = runs.run_dir(run_id)
    files = {"": folder / "metrics.jsonl"}
    classes = folder / "classes"
    if classes.is_dir():
        files = {p.name: p / "metrics.jsonl" for p in sorted(classes.iterdir()) if p.is_dir()}
    return files


@dataclass
class MetricsTail:
    """Reads the new complete lines of a metrics.jsonl since the last call (keeps its byte offset)."""

    path: Path
    offset: int = 0
    rows: list[dict] = field(default_factory=list)

    def read_new(self) -> list[dict]:
        """The rows appended since the previous call (a line still being written waits for the next)."""
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                chunk = fh.read()
        except FileNotFoundError:
            return []
        end = chunk.rfind(b"\n") + 1
        self.offset += end
        return [json.loads(line) for line in chunk[:end].splitlines() if line.strip()]

    def poll(self) -> list[dict]:
        """All rows so far (reading only bytes appended since the previous poll)."""
        self.rows += self.read_new()
        return self.rows


TAIL_ROWS = 10  # the latest rows of a part, always kept whole: the step rate and ETA come from them


def tracked_rows(metrics: pd.DataFrame) -> pd.Series:
    """True for the tracked-FID rows of a metrics frame (they carry no losses)."""
    return metrics["fid"].notna() if "fid" in metrics else pd.Series(False, index=metrics.index)


class _Part:
    """One metrics file's rows as a frame indexed by loss-row number (-1 for tracked-FID rows): every row, or
    with ``max_points`` every ``stride``-th loss row (the stride doubles whenever more than ``2 * max_points`` would be kept, so the
    kept rows stay evenly spaced), every tracked-FID row and the last :data:`TAIL_ROWS` rows. The training
    time is summed over every row read, so thinning does not change it."""

    def __init__(self, name: str, max_points: int | None) -> None:
        self.name, self.max_points = name, max_points
        self.frame = pd.DataFrame()
        self.seen = 0
        self.stride = 1
        self.elapsed: float | None = None

    def add(self, rows: list[dict]) -> None:
        new = pd.DataFrame(rows).assign(part=self.name)
        losses = ~tracked_rows(new)
        new.index = np.where(losses, self.seen + losses.cumsum() - 1, -1)
        self.seen += int(losses.sum())
        if "time" in new and "step" in new:
            before = self.frame.tail(1)  # the previous last row: the first new row's time step counts too
            moved = _forward(pd.concat([before, new]) if len(before) else new)["time"].sum()
            self.elapsed = (self.elapsed if len(before) else float(new["time"].iloc[0])) + float(moved)
        self.frame = pd.concat([self.frame, new]) if len(self.frame) else new
        if self.max_points:
            self._thin()

    def _thin(self) -> None:
        rows = self.frame.index.to_series()
        while ((rows >= 0) & (rows % self.stride == 0)).sum() > 2 * self.max_points:
            self.stride *= 2
        keep = (rows < 0) | (rows % self.stride == 0) | (rows >= self.seen - TAIL_ROWS)
        if not keep.all():
            self.frame = self.frame[keep]


class RunWatcher:
    """Incremental reader of all metrics files of a run (per-class runs have one per class): only new lines
    are parsed, and they are appended to one frame per part (no row dicts are kept). With ``max_points``
    (the live view) each part keeps a bounded, evenly thinned set of rows, whatever the run's length."""

    def __init__(self, run_id: str, max_points: int | None = None) -> None:
        self.run_id = run_id
        self.max_points = max_points
        self.tails: dict[str, MetricsTail] = {}
        self.parts: dict[str, _Part] = {}
        self._frame: pd.DataFrame | None = None

    def frame(self) -> pd.DataFrame:
        """The metrics rows so far (all, or the thinned set), with a ``part`` column (class name for
        per-class runs, else "")."""
        for part, path in metrics_files(self.run_id).items():
            new = self.tails.setdefault(part, MetricsTail(path)).read_new()
            if new:
                self.parts.setdefault(part, _Part(part, self.max_points)).add(new)
                self._frame = None
        if self._frame is None:
            frames = [self.parts[part].frame for part in sorted(self.parts)]
            self._frame = (
                pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["step", "part"])
            )
        return self._frame

    def elapsed(self) -> float | None:
        """Training time so far over every row read (not only the kept ones), summed over the parts."""
        times = [p.elapsed for p in self.parts.values() if p.elapsed is not None]
        return float(sum(times)) if times else None


@dataclass(frozen=True)
class Progress:
    """Where a run stands: steps done of total, recent images/s, ETA and training time so far in seconds
    (None when unknown), and what a starting run is doing (``phase``: loading data, building model...)."""

    status: str
    step: int
    total_steps: int
    images_per_sec: float | None
    eta_seconds: float | None
    elapsed_seconds: float | None = None
    phase: str | None = None

    @property
    def fraction(self) -> float:
        """Steps done as a fraction in [0, 1]."""
        return min(1.0, self.step / self.total_steps) if self.total_steps else 0.0


def _forward(rows: pd.DataFrame) -> pd.DataFrame:
    """Step and time differences between consecutive rows of one part, where both move forward.

    A resumed run's time continues from its checkpoint; older runs restarted it at 0, and those jumps
    back (and the first row after them) are dropped instead of counted as time.
    """
    diffs = rows[["step", "time"]].diff()
    return diffs[(diffs["step"] > 0) & (diffs["time"] > 0)]


def _elapsed(metrics: pd.DataFrame) -> float | None:
    """Training time so far: per part, the first row's time plus every forward step in time."""
    if not len(metrics) or "time" not in metrics:
        return None
    return float(
        sum(rows["time"].iloc[0] + _forward(rows)["time"].sum() for _, rows in metrics.groupby("part"))
    )


def progress(run_id: str, metrics: pd.DataFrame, elapsed: float | None = None) -> Progress:
    """Progress of a run from its status file and metrics (ETA from the latest rows' step rate); the
    training time so far is ``elapsed`` when given (a thinned frame's rows no longer sum to it)."""
    info = runs.run_info(run_id, runs.job_status(run_id))
    state = runs.read_status(runs.run_dir(run_id))
    phase = state.get("phase") if state.get("status") == "starting" else None
    rate = eta = None
    if len(metrics) >= 2 and "images_per_sec" in metrics:
        latest = metrics[metrics["part"] == metrics["part"].iloc[-1]].tail(10)
        rate = float(latest["images_per_sec"].mean())
        forward = _forward(latest)
        steps, seconds = forward["step"].sum(), forward["time"].sum()
        if steps > 0 and seconds > 0 and info.status in ("running", "queued"):
            eta = (info.total_steps - info.step) * seconds / steps
    if elapsed is None:
        elapsed = _elapsed(metrics)
    return Progress(info.status, info.step, info.total_steps, rate, eta, elapsed, phase)


def describe(state: Progress) -> str:
    """One line for a progress bar: ``starting: loading data`` or status, step, speed, elapsed and ETA."""
    if state.phase and state.status in ("running", "queued", "starting"):
        return f"starting: {state.phase}"
    speed = f"{state.images_per_sec:.0f} images/s" if state.images_per_sec else "speed unknown"
    elapsed = f", {format_eta(state.elapsed_seconds)} elapsed" if state.elapsed_seconds is not None else ""
    return (
        f"{state.status}: step {state.step}/{state.total_steps}, {speed}{elapsed}, "
        f"ETA {format_eta(state.eta_seconds)}"
    )


def format_eta(seconds: float | None) -> str:
    """``1 h 02 min``, ``3 min 05 s``, ``42 s``, or ``unknown``."""
    if seconds is None:
        return "unknown"
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"


def latest_sample(run_id: str) -> Path | None:
    """The newest samples/latest.png of the run (or of its per-class models)."""
    folder = runs.run_dir(run_id)
    grids = [
        p
        for p in [folder / "samples" / "latest.png", *folder.glob("classes/*/samples/latest.png")]
        if p.is_file()
    ]
    return max(grids, key=lambda p: p.stat().st_mtime) if grids else None


def loss_figure(metrics: pd.DataFrame) -> go.Figure:
    """Plotly figure of the losses (and D outputs, ADA p) against step, one trace per curve and part."""
    figure = go.Figure()
    for part, rows in metrics.groupby("part", sort=True) if len(metrics) else []:
        for name in CURVES:
            curve = rows[["step", name]].dropna() if name in rows else rows.iloc[:0]
            if len(curve) and (name != "ada_p" or curve[name].max() > 0):  # tracked-FID rows have no losses
                label = f"{name} ({part})" if part else name
                figure.add_trace(go.Scatter(x=curve["step"], y=curve[name], mode="lines", name=label))
    figure.update_layout(
        xaxis_title="step (generator updates)",
        yaxis_title="value",
        height=400,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
    )
    return legend_below(figure)
