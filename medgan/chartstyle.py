"""Layout rules shared by the app's plotly figures, so legends and tick labels never cover a plot."""

from __future__ import annotations

import plotly.graph_objects as go

# A horizontal legend anchored to the bottom of the whole figure (not the plot area): plotly reserves room
# for it under the x-axis title, and long or many entries wrap into rows instead of squeezing the plot.
LEGEND_BELOW = {
    "orientation": "h",
    "yref": "container",
    "y": 0,
    "yanchor": "bottom",
    "x": 0,
    "xanchor": "left",
}


def legend_below(fig: go.Figure) -> go.Figure:
    """Put ``fig``'s legend under the plot (see :data:`LEGEND_BELOW`); returns ``fig``."""
    return fig.update_layout(legend=LEGEND_BELOW)


def short_label(name: str, limit: int = 14) -> str:
    """``name``, cut to ``limit`` characters with an ellipsis (tick labels; hover text keeps the full name)."""
    return name if len(name) <= limit else name[: limit - 1] + "…"
