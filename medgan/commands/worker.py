"""``python -m medgan worker JOB_ID``: the detached process that runs one background job."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``worker`` sub-command."""
    parser = subparsers.add_parser("worker", help="run one queued background job (started by the app)")
    parser.add_argument("job_id", help="id of a queued job in the workspace's jobs table")
    return parser


WORKER_NICE_ENV = "MEDGAN_WORKER_NICE"


def run(args: argparse.Namespace) -> int:
    """Wait for the job's turn, run it, record the outcome. The worker lowers its CPU priority first
    (``MEDGAN_WORKER_NICE``, default 5) so the app server stays responsive on a shared machine."""
    import os

    from medgan.jobs.runner import run_worker

    os.nice(int(os.environ.get(WORKER_NICE_ENV, "5") or 0))
    return run_worker(args.job_id)
