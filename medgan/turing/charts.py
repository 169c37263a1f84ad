"""Plotly figures of a study's results (per-rater metrics with 95% CIs, accuracy by confidence)."""

from __future__ import annotations

import plotly.graph_objects as go

METRICS = ("accuracy", "sensitivity", "specificity")


def _bar(name: str, x: list, entries: list[dict]) -> go.Bar:
    values = [e["value"] for e in entries]
    return go.Bar(
        name=name,
        x=x,
        y=values,
        error_y={
            "type": "data",
            "symmetric": False,
            "array": [e["ci_high"] - e["value"] if e["n"] else 0 for e in entries],
            "arrayminus": [e["value"] - e["ci_low"] if e["n"] else 0 for e in entries],
        },
        customdata=[[e["k"], e["n"]] for e in entries],
        hovertemplate="%{x}: %{y:.2f} (%{customdata[0]} of %{customdata[1]})<extra>" + name + "</extra>",
    )


def _chance_line(fig: go.Figure) -> go.Figure:
    fig.add_hline(y=0.5, line_dash="dot", annotation_text="chance (50%)")
    fig.update_yaxes(range=[0, 1.05], tickformat=".0%")
    return fig


def rater_metrics_figure(results: dict) -> go.Figure:
    """Grouped bars per rater (95% Wilson CIs) and pooled (95% CIs clustered by image, GEE): accuracy,
    sensitivity, specificity."""
    entries = results["per_rater"] + [{"rater": "all raters", **results["pooled"]}]
    x = [e["rater"] for e in entries]
    fig = go.Figure([_bar(metric, x, [e[metric] for e in entries]) for metric in METRICS])
    fig.update_layout(
        barmode="group",
        title="Spotting synthetic images, per rater (95% CI)",
        yaxis_title="proportion",
        legend_title="metric",
    )
    return _chance_line(fig)


def confidence_figure(results: dict) -> go.Figure:
    """Accuracy at each confidence level (1 = guessing, 5 = certain) with 95% CIs, all raters pooled."""
    rows = results["by_confidence"]
    fig = go.Figure([_bar("accuracy", [str(r["confidence"]) for r in rows], rows)])
    fig.update_layout(
        title="Accuracy by stated confidence (all raters)",
        xaxis_title="confidence (1-5)",
        yaxis_title="accuracy",
    )
    return _chance_line(fig)
