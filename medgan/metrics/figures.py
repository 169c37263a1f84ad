"""Plotly figures for the Train, Evaluate and Embeddings pages (built here so the pages stay widget lists)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from medgan.chartstyle import legend_below
from medgan.embed import Embedding

# where each part's real-vs-real floor is labelled on its line, so two parts' labels do not overlap
FLOOR_LABELS = ("top right", "bottom right", "top left", "bottom left")


def fid_curve(metrics: pd.DataFrame, history: list[dict] | None = None) -> go.Figure:
    """FID tracked while training (metrics.jsonl rows with ``fid``, one line per part), its real-vs-real floor
    as a dashed line, the best step starred, and full evaluations (``history``) as diamonds."""
    fig = go.Figure()
    tracked = metrics[metrics["fid"].notna()] if "fid" in metrics else metrics.iloc[:0]
    for i, (part, rows) in enumerate(tracked.groupby("part", sort=True) if "part" in tracked else []):
        suffix = f" ({part})" if part else ""
        last = rows.iloc[-1]
        fig.add_scatter(
            x=rows["step"],
            y=rows["fid"],
            mode="lines+markers",
            name=f"FID{suffix}",
            text=[f"KID {k:.3g} ± {s:.2g}" for k, s in zip(rows["kid"], rows["kid_std"], strict=True)],
        )
        best = rows.loc[rows["fid"].idxmin()]
        fig.add_scatter(
            x=[best["step"]],
            y=[best["fid"]],
            mode="markers",
            marker={"symbol": "star", "size": 13},
            name=f"best{suffix}",
        )
        fig.add_hline(
            y=float(last["fid_floor"]),
            line_dash="dash",
            annotation_position=FLOOR_LABELS[i % 4],
            annotation_text=f"real-vs-real floor{suffix} ({int(last['track_n_floor'])} training vs "
            f"{int(last['track_n_reference'])} held-out)",
        )
    for extractor in sorted({h["extractor"] for h in history or []}):
        rows = [h for h in history if h["extractor"] == extractor]
        fig.add_scatter(
            x=[h["step"] for h in rows],
            y=[h["fid"] for h in rows],
            mode="markers",
            marker={"size": 11, "symbol": "diamond"},
            name=f"evaluation ({extractor})",
            text=[f"n = {h['n']}, baseline {h['baseline']:.3g}" for h in rows],
        )
    extractor = tracked["extractor"].iloc[-1] if len(tracked) else "features"
    n = f", n = {int(tracked['track_n'].iloc[-1])}" if len(tracked) else ""
    fig.update_layout(
        xaxis_title="training step",
        yaxis_title=f"FID ({extractor}{n})",
        height=380,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
    )
    return legend_below(fig)


def distance_histogram(audit: dict) -> go.Figure:
    """Nearest-training distances of synthetic vs held-out real images, with the flagging threshold."""
    fig = go.Figure()
    fig.add_histogram(
        x=audit["heldout_distances"],
        name=f"held-out real (n = {audit['n_heldout']})",
        opacity=0.6,
        histnorm="probability",
    )
    fig.add_histogram(
        x=audit["fake_distances"],
        name=f"synthetic (n = {audit['n_fake']})",
        opacity=0.6,
        histnorm="probability",
    )
    fig.add_vline(
        x=audit["threshold"],
        line_dash="dash",
        annotation_text=f"{audit['percentile']:g}st percentile of held-out",
    )
    fig.update_layout(
        barmode="overlay",
        xaxis_title=f"distance to nearest training image ({audit['unit']})",
        yaxis_title="fraction of images",
        height=320,
        margin={"t": 30},
    )
    return fig


def embedding_scatter(embedding: Embedding, colour: str = "source") -> go.Figure:
    """One point per image, coloured by ``source`` or ``label``; ``customdata[0]`` is the row in ``points``
    (plotly hover labels cannot show images, so the page shows the selected points' images)."""
    points = embedding.points.reset_index(drop=True)
    fig = go.Figure()
    symbols = {"real": "circle", "synthetic": "x"}
    for value in sorted(points[colour].unique()):
        part = points[points[colour] == value]
        fig.add_scattergl(
            x=part["x"],
            y=part["y"],
            mode="markers",
            name=str(value) or "(no class)",
            marker={"size": 7, "opacity": 0.75, "symbol": [symbols.get(s, "circle") for s in part["source"]]},
            customdata=np.stack(
                [part.index.to_numpy(), part["source"], part["label"], part["index"]], axis=1
            ),
            hovertemplate="%{customdata[1]} · class %{customdata[2]} · #%{customdata[3]}<extra></extra>",
        )
    fig.update_layout(
        height=600,
        xaxis_title=f"{embedding.method} 1",
        yaxis_title=f"{embedding.method} 2",
        legend_title=colour,
        margin={"t": 30},
        dragmode="lasso",
    )
    return fig
