"""Plotly figures of a comparison result (the Classifier page only displays them)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from medgan.chartstyle import legend_below, short_label
from medgan.classify.metrics import MACRO
from medgan.classify.report import TABLE_METRICS, arm_label, metrics_frame, table_frame


def metric_figure(result: dict, size: str) -> go.Figure:
    """The table's metrics per arm as grouped bars with 95% bootstrap intervals."""
    frame = table_frame(result, size)
    fig = go.Figure()
    for arm in result["config"]["arms"]:
        mine = frame[frame["arm"] == arm].set_index("metric").loc[list(TABLE_METRICS)]
        fig.add_bar(
            name=arm_label(result, arm, [size]),
            x=list(TABLE_METRICS.values()),
            y=mine["value"],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": mine["ci_high"] - mine["value"],
                "arrayminus": mine["value"] - mine["ci_low"],
            },
        )
    fig.update_layout(
        barmode="group",
        yaxis={"title": "value (95% CI)", "range": [0, 1.05]},
        title=f"Test metrics per arm (n = {int(frame['n_test'].iloc[0])} images)",
    )
    return legend_below(fig)


def confusion_figure(result: dict, size: str) -> go.Figure:
    """One confusion-matrix heatmap per arm (rows: true class, columns: predicted class). Class names are
    shortened on the axes (in full on hover), written once on the shared y axis and slanted on x when long."""
    arms, names = result["config"]["arms"], result["class_names"]
    ticks = [short_label(n) for n in names]
    slant = -30 if max(map(len, ticks)) * len(names) > 40 else 0
    fig = make_subplots(
        rows=1,
        cols=len(arms),
        subplot_titles=[short_label(a, 24) for a in arms],
        shared_yaxes=True,
        horizontal_spacing=0.03,
    )
    for col, arm in enumerate(arms, start=1):
        counts = np.asarray(result["confusion"][size][arm])
        fig.add_trace(
            go.Heatmap(
                z=counts,
                x=names,
                y=names,
                text=counts,
                texttemplate="%{text}",
                coloraxis="coloraxis",
                hovertemplate=f"{arm}<br>true %{{y}}<br>predicted %{{x}}: %{{z}}<extra></extra>",
            ),
            row=1,
            col=col,
        )
        fig.update_xaxes(
            title_text="predicted", tickvals=names, ticktext=ticks, tickangle=slant, row=1, col=col
        )
    fig.update_yaxes(tickvals=names, ticktext=ticks, autorange="reversed")
    fig.update_yaxes(title_text="true", row=1, col=1)
    fig.update_layout(
        coloraxis={"colorscale": "Blues", "showscale": False},
        title="Confusion matrices (pooled out-of-fold test predictions)",
    )
    return fig


def curves_figure(result: dict, size: str, arm: str) -> go.Figure:
    """Training and validation loss per epoch for every fold of one arm; circles mark the kept epoch."""
    fig = go.Figure()
    for training in (t for t in result["trainings"] if t["size"] == size and t["arm"] == arm):
        curves = training["curves"]
        epochs = [c["epoch"] for c in curves]
        fold = training["fold"] + 1
        fig.add_scatter(
            x=epochs,
            y=[c["train_loss"] for c in curves],
            name=f"fold {fold} train",
            mode="lines",
            line={"dash": "dot"},
        )
        fig.add_scatter(
            x=epochs, y=[c["val_loss"] for c in curves], name=f"fold {fold} validation", mode="lines"
        )
        best = training["best_epoch"]
        fig.add_scatter(
            x=[best],
            y=[curves[best - 1]["val_loss"]],
            mode="markers",
            showlegend=False,
            marker={"size": 10, "symbol": "circle-open"},
            name=f"fold {fold} kept epoch",
        )
    fig.update_layout(
        title=f"Loss curves: {arm} (early stopping on validation loss)",
        xaxis_title="epoch",
        yaxis_title="cross-entropy loss",
    )
    return fig


def size_figure(result: dict, metric: str = "f1") -> go.Figure:
    """Macro ``metric`` against real training-set size (mean over folds), one line per arm, 95% CIs."""
    frame = metrics_frame(result)
    frame = frame[(frame["scope"] == MACRO) & (frame["metric"] == metric)]
    fig = go.Figure()
    for arm in result["config"]["arms"]:
        xs = [
            np.mean([t["n_train_real"] for t in result["trainings"] if t["size"] == s and t["arm"] == arm])
            for s in result["sizes"]
        ]
        mine = frame[frame["arm"] == arm].set_index("size").loc[result["sizes"]]
        fig.add_scatter(
            x=xs,
            y=mine["value"],
            name=arm_label(result, arm, result["sizes"]),
            mode="lines+markers",
            error_y={
                "type": "data",
                "symmetric": False,
                "array": mine["ci_high"] - mine["value"],
                "arrayminus": mine["value"] - mine["ci_low"],
            },
        )
    fig.update_layout(
        title=f"Macro {TABLE_METRICS.get(metric, metric)} against training-set size",
        xaxis_title="real training images per fold (mean)",
        yaxis_title=f"macro {TABLE_METRICS.get(metric, metric)} (95% CI)",
    )
    return legend_below(fig)
