"""Registry of metrics by name (after stylegan2-ada's ``metric_main``): one decorated function per metric.

Two kinds: ``quality`` metrics score one synthetic image against one real image (tensors in [0, 1], shape
(N, C, H, W)) and return a per-image tensor; ``distribution`` metrics compare two feature sets
(``real``, ``fake``: (N, D) float64 arrays) and return a dict of named numbers.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Kind = Literal["quality", "distribution"]
_MODULES = ("medgan.metrics.quality", "medgan.metrics.fid", "medgan.metrics.kid", "medgan.metrics.prdc")


@dataclass(frozen=True)
class Metric:
    """A registered metric: its function and how to read its numbers."""

    name: str
    kind: Kind
    fn: Callable
    higher_is_better: bool
    ideal: float
    unit: str
    reference: str


_REGISTRY: dict[str, Metric] = {}


def register_metric(
    name: str, kind: Kind, *, higher_is_better: bool, ideal: float, unit: str = "", reference: str = ""
) -> Callable[[Callable], Callable]:
    """Decorator that adds a metric function to the registry under ``name``."""

    def add(fn: Callable) -> Callable:
        _REGISTRY[name] = Metric(name, kind, fn, higher_is_better, ideal, unit, reference)
        return fn

    return add


def metrics(kind: Kind | None = None) -> dict[str, Metric]:
    """All registered metrics (optionally of one kind), in registration order."""
    for module in _MODULES:
        importlib.import_module(module)
    return {n: m for n, m in _REGISTRY.items() if kind is None or m.kind == kind}


def get_metric(name: str) -> Metric:
    """One metric by name; ``KeyError`` naming the known ones otherwise."""
    known = metrics()
    if name not in known:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(known)}")
    return known[name]
