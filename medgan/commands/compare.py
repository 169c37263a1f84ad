"""``python -m medgan compare --dataset NAME --run RUN_ID|demo``: classic versus synthetic augmentation.

Runs in the foreground (progress on stderr) and writes comparison.json, metrics.csv and table.md into
``<workspace>/comparisons/<name>/``; the Classifier page runs the same experiment as a background job.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime

from medgan import runs
from medgan.classify.arms import ARMS
from medgan.classify.config import CompareConfig, parse_sizes
from medgan.classify.experiment import run_comparison
from medgan.classify.report import new_result_folder, paper_tables, save_result
from medgan.commands import add_checkpoint_option, run_ref
from medgan.data.phantom import dataset_or_demo
from medgan.data.store import DatasetNotFound


def _size_list(text: str) -> tuple[int, ...]:
    try:
        return parse_sizes(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _name_list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``compare`` sub-command."""
    defaults = CompareConfig(dataset="-")
    parser = subparsers.add_parser(
        "compare",
        help="does adding synthetic images help a classifier? (4 arms, patient-level folds)",
        description="Train a classifier on the same patient-level folds with real images only, + classic "
        "augmentation, + synthetic images, + both; report accuracy, sensitivity, specificity, F1 "
        "and AUC with 95%% bootstrap intervals and paired tests (McNemar, DeLong).",
    )
    parser.add_argument(
        "--dataset", default=None, help="dataset name or id (default: the first run's dataset)"
    )
    parser.add_argument(
        "--run",
        type=_name_list,
        default=defaults.runs,
        help="class-conditional run id, 'demo', or comma-separated runs, one per class",
    )
    add_checkpoint_option(parser)
    parser.add_argument(
        "--model",
        default=defaults.model,
        help=f"small-cnn, resnet10t, resnet18, efficientnet_b0 or any timm name (default {defaults.model})",
    )
    parser.add_argument(
        "--weights", default=None, help="local state-dict file to start from (default: from scratch)"
    )
    parser.add_argument(
        "--folds", type=int, default=defaults.folds, help=f"cross-validation folds (default {defaults.folds})"
    )
    parser.add_argument(
        "--synthetic-per-class",
        type=int,
        default=defaults.synthetic_per_class,
        help=f"synthetic images (and augmented copies) added per class (default {defaults.synthetic_per_class})",
    )
    parser.add_argument(
        "--sizes",
        type=_size_list,
        default=(),
        help="real training-set sizes for an F1-vs-size sweep, e.g. 100,200,all",
    )
    parser.add_argument(
        "--epochs", type=int, default=defaults.epochs, help=f"maximum epochs (default {defaults.epochs})"
    )
    parser.add_argument(
        "--patience", type=int, default=defaults.patience, help="early-stopping patience in epochs"
    )
    parser.add_argument(
        "--resolution", type=int, default=defaults.resolution, help="image size in px (default 32)"
    )
    parser.add_argument("--arms", type=_name_list, default=tuple(ARMS), help=f"subset of {','.join(ARMS)}")
    parser.add_argument(
        "--positive-class",
        default=None,
        help="two classes: whose sensitivity the table reports (default: the non-normal class)",
    )
    parser.add_argument("--seed", type=int, default=defaults.seed, help="fixes folds, sampling and training")
    parser.add_argument("--json", action="store_true", help="print one JSON object with the result summary")
    return parser


def config_from_args(args: argparse.Namespace) -> CompareConfig:
    """The experiment config the arguments describe."""
    return CompareConfig(
        dataset=args.dataset,
        runs=tuple(run_ref(r, args) for r in args.run),
        model=args.model,
        weights_path=args.weights,
        folds=args.folds,
        synthetic_per_class=args.synthetic_per_class,
        sizes=args.sizes,
        epochs=args.epochs,
        patience=args.patience,
        resolution=args.resolution,
        arms=args.arms,
        positive_class=args.positive_class,
        seed=args.seed,
    )


def _progress_line(fraction: float, message: str) -> None:
    print(
        f"\rcompare: {fraction:6.1%} {message}".ljust(90),
        end="\n" if fraction >= 1 else "",
        file=sys.stderr,
        flush=True,
    )


def run(args: argparse.Namespace) -> int:
    """Run the comparison in the foreground; exit 1 with the reason on stderr when it cannot run."""
    started = time.monotonic()
    try:
        if args.dataset is None:
            if not args.run:
                raise ValueError("--dataset is required when no --run is given")
            args.dataset = runs.run_dataset(args.run[0])
        config = config_from_args(args)
        dataset_or_demo(config.dataset)  # the phantom demo is made on first use, as in the app
        result = run_comparison(config, progress=_progress_line)
    except (ValueError, OSError, DatasetNotFound) as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 1
    name = f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{config.dataset}"
    path = save_result(result, new_result_folder(name))
    table = paper_tables(result)
    if args.json:
        print(
            json.dumps(
                {
                    "result_file": str(path),
                    "table_markdown": table,
                    "command": result["command"],
                    "wall_seconds": round(time.monotonic() - started, 1),
                    "metrics": result["metrics"],
                    "paired_tests": result["paired_tests"],
                }
            )
        )
    else:
        print(table)
        print(f"saved {path} ({time.monotonic() - started:.0f} s)")
    return 0
