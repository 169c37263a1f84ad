"""Runs side by side: one row per run (status, data, speed, last losses, best tracked FID, last evaluation)
and one figure per metric with a curve per run. The run with the lowest FID on one extractor is marked best."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from medgan import runs
from medgan.chartstyle import legend_below
from medgan.metrics import report
from medgan.train.monitor import RunWatcher

CURVE_METRICS = ("loss_d", "loss_g", "fid", "kid", "images_per_sec")


def run_metrics(run_id: str) -> pd.DataFrame:
    """Every metrics.jsonl row of a run (all parts of a per-class run), in step order."""
    return RunWatcher(run_id).frame().sort_values("step", kind="stable")


def _last(frame: pd.DataFrame, column: str) -> float:
    values = frame[column].dropna() if column in frame else pd.Series(dtype=float)
    return float(values.iloc[-1]) if len(values) else math.nan


def summary_row(run: runs.RunInfo, frame: pd.DataFrame) -> dict:
    """One run's line of the comparison table (NaN where a value does not exist yet)."""
    fid = frame["fid"].dropna() if "fid" in frame else pd.Series(dtype=float)
    best = frame.loc[fid.idxmin()] if len(fid) else None
    evaluation = report.latest_metrics(run.id) or {}
    evaluated = next((r for r in evaluation.get("distribution", []) if r["metric"] == "FID"), {})
    speed = frame["images_per_sec"].dropna() if "images_per_sec" in frame else pd.Series(dtype=float)
    return {
        "run": run.id,
        "name": run.name,
        "dataset": run.dataset,
        "architecture": run.arch,
        "px": run.resolution,
        "status": run.status,
        "step": f"{run.step}/{run.total_steps}",
        "images/s (median)": float(speed.median()) if len(speed) else math.nan,
        "loss_d (last)": _last(frame, "loss_d"),
        "loss_g (last)": _last(frame, "loss_g"),
        "best tracked FID": float(best["fid"]) if best is not None else math.nan,
        "FID floor": float(best["fid_floor"]) if best is not None and "fid_floor" in best else math.nan,
        "best checkpoint step": int(best["step"]) if best is not None else None,
        "evaluated FID": evaluated.get("value", math.nan),
        "evaluated on": evaluation.get("extractor", ""),
    }


def comparison_table(run_ids: list[str]) -> pd.DataFrame:
    """The comparison table of ``run_ids``; ``best`` marks the lowest tracked FID (FIDs on different
    extractors or data do not compare, so it is only marked when all chosen runs share a dataset)."""
    by_id = {r.id: r for r in runs.list_runs(archived=True)}
    table = pd.DataFrame([summary_row(by_id[i], run_metrics(i)) for i in run_ids if i in by_id])
    if table.empty:
        return table
    comparable = table["dataset"].nunique() == 1 and table["best tracked FID"].notna().any()
    table.insert(
        1, "best", table["best tracked FID"] == table["best tracked FID"].min() if comparable else False
    )
    return table


def curves_figure(frames: dict[str, pd.DataFrame], metric: str) -> go.Figure:
    """``metric`` over steps, one line per run; legend under the plot so long run ids never overlap it."""
    fig = go.Figure()
    for run_id, frame in frames.items():
        if metric in frame and frame[metric].notna().any():
            rows = frame.dropna(subset=[metric])
            fig.add_scatter(
                x=rows["step"],
                y=rows[metric],
                mode="lines+markers" if len(rows) < 30 else "lines",
                name=run_id,
            )
    fig.update_layout(
        title=metric,
        xaxis_title="step",
        height=320,
        margin={"t": 40, "b": 10},
    )
    return legend_below(fig)
