"""Watching a run from its files (for the live Train page and the CLI): metrics.jsonl read incrementally,
progress with ETA and images per second, the latest sample grid, loss curves as a plotly figure.

Plain functions over the run folder, no Streamlit and no torch, so they are tested directly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from medgan import runs

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

    def poll(self) -> list[dict]:
        """All rows so far (reading only bytes appended since the previous poll)."""
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                chunk = fh.read()
        except FileNotFoundError:
            return self.rows
        end = chunk.rfind(b"\n") + 1  # a line still being written waits for the next poll
        for line in chunk[:end].splitlines():
            if line.strip():
                self.rows.append(json.loads(line))
        self.offset += end
        return self.rows


class RunWatcher:
    """Incremental reader of all metrics files of a run (per-class runs have one per class)."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.tails: dict[str, MetricsTail] = {}

    def frame(self) -> pd.DataFrame:
        """All metrics rows so far, with a ``part`` column (class name for per-class runs, else "")."""
        frames = []
        for part, path in metrics_files(self.run_id).items():
            tail = self.tails.setdefault(part, MetricsTail(path))
            rows = tail.poll()
            if rows:
                frames.append(pd.DataFrame(rows).assign(part=part))
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["step", "part"])


@dataclass(frozen=True)
class Progress:
    """Where a run stands: steps done of total, recent images/s, ETA in seconds (None when unknown)."""

    status: str
    step: int
    total_steps: int
    images_per_sec: float | None
    eta_seconds: float | None

    @property
    def fraction(self) -> float:
        """Steps done as a fraction in [0, 1]."""
        return min(1.0, self.step / self.total_steps) if self.total_steps else 0.0


def progress(run_id: str, metrics: pd.DataFrame) -> Progress:
    """Progress of a run from its status file and metrics (ETA from the last rows' step rate)."""
    info = runs.run_info(run_id, _job_status(run_id))
    rate = eta = None
    if len(metrics) >= 2 and "images_per_sec" in metrics:
        last = metrics.tail(min(len(metrics), 10))
        rate = float(last["images_per_sec"].mean())
        steps, seconds = last["step"].diff().abs().sum(), last["time"].diff().abs().sum()
        if steps > 0 and seconds > 0 and info.status in ("running", "queued"):
            eta = (info.total_steps - info.step) * seconds / steps
    return Progress(info.status, info.step, info.total_steps, rate, eta)


def _job_status(run_id: str) -> str | None:
    from medgan.train.job import job_for_run

    job = job_for_run(run_id)
    return job.status if job else None


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
        height=360,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h"},
    )
    return figure
