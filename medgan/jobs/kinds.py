"""Job kinds by name: ``kind -> "module:function"``; each function is ``fn(ctx: JobContext) -> dict``.

A new kind of background work is one line here and one function elsewhere.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

JOB_KINDS: dict[str, str] = {
    "train": "medgan.jobs.training:run_train_job",
    "compare": "medgan.classify.job:run_compare_job",
    "import": "medgan.jobs.tasks:run_import_job",
    "evaluate": "medgan.jobs.tasks:run_evaluate_job",
    "embed": "medgan.jobs.tasks:run_embed_job",
    "study": "medgan.jobs.tasks:run_study_job",
    "export": "medgan.jobs.tasks:run_export_job",
    "send": "medgan.jobs.tasks:run_send_job",
}

# Kinds that wait for a device slot (one per GPU, one on CPU); the shorter tasks have their own queue
# (MEDGAN_MAX_TASKS at once, default 2), so an import or an export never waits hours behind a training run.
DEVICE_KINDS = frozenset({"train", "compare"})


def job_function(kind: str) -> Callable[[Any], dict]:
    """Import and return the function registered for ``kind``."""
    if kind not in JOB_KINDS:
        raise ValueError(f"unknown job kind {kind!r}; known: {', '.join(sorted(JOB_KINDS))}")
    module_name, _, attr = JOB_KINDS[kind].partition(":")
    return getattr(importlib.import_module(module_name), attr)
