"""Plotly figures for the Evaluate and Embeddings pages (built here so the pages stay widget lists)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from medgan.embed import Embedding


def fid_curve(curve: dict, history: list[dict]) -> go.Figure:
    """FID of the snapshot grids over steps, the same-size held-out baseline band, and full evaluations."""
    fig = go.Figure()
    points = curve["points"]
    if points:
        fig.add_scatter(x=[p["step"] for p in points], y=[p["fid"] for p in points], mode="lines+markers",
                        name=f"sample grid (n = {points[-1]['n']})")
    if curve.get("baseline") is not None:
        mean, sd = curve["baseline"], curve["baseline_sd"] or 0.0
        fig.add_hrect(y0=mean - sd, y1=mean + sd, fillcolor="grey", opacity=0.2, line_width=0)
        fig.add_hline(y=mean, line_dash="dash", annotation_text="held-out real, same n (mean +- sd)")
    for extractor in sorted({h["extractor"] for h in history}):
        rows = [h for h in history if h["extractor"] == extractor]
        fig.add_scatter(x=[h["step"] for h in rows], y=[h["fid"] for h in rows], mode="markers",
                        marker={"size": 11, "symbol": "diamond"}, name=f"evaluation ({extractor})",
                        text=[f"n = {h['n']}, baseline {h['baseline']:.3g}" for h in rows])
    fig.update_layout(xaxis_title="training step", yaxis_title=f"FID ({curve.get('extractor') or 'features'})",
                      height=380, margin={"t": 30})
    return fig


def distance_histogram(audit: dict) -> go.Figure:
    """Nearest-training distances of synthetic vs held-out real images, with the flagging threshold."""
    fig = go.Figure()
    fig.add_histogram(x=audit["heldout_distances"], name=f"held-out real (n = {audit['n_heldout']})",
                      opacity=0.6, histnorm="probability")
    fig.add_histogram(x=audit["fake_distances"], name=f"synthetic (n = {audit['n_fake']})", opacity=0.6,
                      histnorm="probability")
    fig.add_vline(x=audit["threshold"], line_dash="dash",
                  annotation_text=f"{audit['percentile']:g}st percentile of held-out")
    fig.update_layout(barmode="overlay", xaxis_title=f"distance to nearest training image ({audit['unit']})",
                      yaxis_title="fraction of images", height=320, margin={"t": 30})
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
            x=part["x"], y=part["y"], mode="markers", name=str(value) or "(no class)",
            marker={"size": 7, "opacity": 0.75, "symbol": [symbols.get(s, "circle") for s in part["source"]]},
            customdata=np.stack([part.index.to_numpy(), part["source"], part["label"], part["index"]], axis=1),
            hovertemplate="%{customdata[1]} · class %{customdata[2]} · #%{customdata[3]}<extra></extra>")
    fig.update_layout(height=600, xaxis_title=f"{embedding.method} 1", yaxis_title=f"{embedding.method} 2",
                      legend_title=colour, margin={"t": 30}, dragmode="lasso")
    return fig
