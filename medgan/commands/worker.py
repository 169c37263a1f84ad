"""``python -m medgan worker JOB_ID``: the detached process that runs one background job."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``worker`` sub-command."""
    parser = subparsers.add_parser("worker", help="run one queued background job (started by the app)")
    parser.add_argument("job_id", help="id of a queued job in the workspace's jobs table")
    return parser


def run(args: argparse.Namespace) -> int:
    """Wait for the job's turn, run it, record the outcome."""
    from medgan.jobs.runner import run_worker

    return run_worker(args.job_id)
