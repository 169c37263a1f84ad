"""Job kinds by name: ``kind -> "module:function"``; each function is ``fn(ctx: JobContext) -> dict``.

A new kind of background work is one line here and one function elsewhere.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

JOB_KINDS: dict[str, str] = {
    "train": "medgan.train.job:run_train_job",
    "compare": "medgan.classify.job:run_compare_job",
}


def job_function(kind: str) -> Callable[[Any], dict]:
    """Import and return the function registered for ``kind``."""
    if kind not in JOB_KINDS:
        raise ValueError(f"unknown job kind {kind!r}; known: {', '.join(sorted(JOB_KINDS))}")
    module_name, _, attr = JOB_KINDS[kind].partition(":")
    return getattr(importlib.import_module(module_name), attr)
