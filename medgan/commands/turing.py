"""``python -m medgan turing create|results|export|revoke|list``: blinded visual Turing studies."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from medgan import runs
from medgan.commands import add_checkpoint_option, run_ref
from medgan.data.phantom import dataset_or_demo
from medgan.turing import results, store
from medgan.turing.study import StudySpec, create_study, default_base_url, is_local_address, rater_link


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``turing`` and its sub-commands."""
    parser = subparsers.add_parser(
        "turing", help="blinded visual Turing studies (create, results, export, revoke)"
    )
    sub = parser.add_subparsers(dest="turing_command", required=True)
    create = sub.add_parser("create", help="create a study and print each rater's link")
    create.add_argument("--name", required=True)
    create.add_argument(
        "--dataset",
        default=None,
        help="dataset name or id (real images from its test/val split; default: the run's dataset)",
    )
    create.add_argument("--run", required=True, help="generator run id, or 'demo' for the shipped checkpoint")
    add_checkpoint_option(create)
    create.add_argument(
        "--real", type=int, required=True, help="number of real images (per class with --per-class)"
    )
    create.add_argument("--synthetic", type=int, required=True, help="number of synthetic images (idem)")
    create.add_argument("--per-class", action="store_true", help="counts are per class")
    create.add_argument("--seed", type=int, default=0)
    create.add_argument("--raters", required=True, help='comma-separated rater names, e.g. "A,B,C"')
    create.add_argument(
        "--base-url",
        default=None,
        help="address of the app for the rater links (default: $MEDGAN_BASE_URL or localhost:8501)",
    )
    results_cmd = sub.add_parser("results", help="metrics, binomial tests and kappas of a study")
    results_cmd.add_argument("study", help="study name or id")
    results_cmd.add_argument(
        "--include-revoked", action="store_true", help="count revoked raters' ratings too (default: left out)"
    )
    export = sub.add_parser("export", help="all ratings with truth as CSV")
    export.add_argument("study")
    export.add_argument("--out", required=True, type=Path)
    revoke = sub.add_parser("revoke", help="revoke a rater's link (their ratings so far stay)")
    revoke.add_argument("study")
    revoke.add_argument("rater", help="rater name")
    sub.add_parser("list", help="studies with their rating progress")
    for cmd in sub.choices.values():
        cmd.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    return parser


def _emit(args: argparse.Namespace, payload: dict, text: str) -> None:
    print(json.dumps(results.jsonable(payload), allow_nan=False) if args.json else text)


def _create(args: argparse.Namespace) -> int:
    dataset = dataset_or_demo(
        args.dataset or runs.run_dataset(args.run)
    ).name  # the demo is made on first use
    spec = StudySpec(
        name=args.name,
        dataset=dataset,
        run_id=run_ref(args.run, args),
        n_real=args.real,
        n_synthetic=args.synthetic,
        raters=args.raters.split(","),
        per_class=args.per_class,
        seed=args.seed,
    )
    trained_on = runs.run_dataset(args.run)
    if trained_on != dataset:
        print(
            f"warning: run {args.run} was trained on {trained_on!r}, not on {dataset!r}: its images do not "
            "belong with this dataset's real images",
            file=sys.stderr,
        )
    study, raters = create_study(spec)
    base_url = args.base_url or default_base_url()
    if is_local_address(base_url):
        print(
            f"warning: rater links use {base_url}, which only opens on this machine; pass --base-url or set "
            "MEDGAN_BASE_URL to the address colleagues use",
            file=sys.stderr,
        )
    links = [{"rater": r.name, "token": r.token, "link": rater_link(r.token, base_url)} for r in raters]
    n_images = len(store.image_ids(study.id))
    text = "\n".join(
        [
            f"Study {study.name!r} ({study.id}): {n_images} images",
            *[f"  {x['rater']}: {x['link']}" for x in links],
        ]
    )
    _emit(args, {"study": study.name, "id": study.id, "n_images": n_images, "raters": links}, text)
    return 0


def _results(args: argparse.Namespace) -> int:
    res = results.study_results(store.get_study(args.study).id, include_revoked=args.include_revoked)
    pooled = res["pooled"]
    acc = pooled["accuracy"]
    lines = [
        f"{res['study']['name']}: {res['n_ratings']} ratings of {pooled['n_images']} images; all raters: accuracy "
        f"{acc['value']:.1%} (95% CI {acc['ci_low']:.1%} to {acc['ci_high']:.1%}), p vs 50% = "
        f"{pooled['p_value']:.3g} [{pooled['method']}; naive binomial p {pooled['naive_binomial_p']:.3g}]",
        results.per_rater_table(res).to_string(index=False) if res["per_rater"] else "(no ratings yet)",
        f"Fleiss' kappa: {res['agreement']['fleiss_kappa']:.3f} over {res['agreement']['fleiss_n_images']}"
        f" images rated by all {res['agreement']['fleiss_n_raters']} raters",
    ]
    if res["n_ratings_excluded"]:
        lines.insert(
            1,
            f"left out: {res['n_ratings_excluded']} ratings of revoked raters "
            f"({', '.join(res['revoked_raters'])}); --include-revoked counts them",
        )
    if res["split_warning"]:
        lines.insert(0, f"WARNING: {res['split_warning']}")
    _emit(args, res, "\n".join(lines))
    return 0


def _export(args: argparse.Namespace) -> int:
    n = results.export_csv(store.get_study(args.study).id, args.out)
    _emit(args, {"out": str(args.out), "rows": n}, f"wrote {n} ratings to {args.out}")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    rater = store.set_revoked(store.get_study(args.study).id, args.rater)
    _emit(
        args,
        {"study": args.study, "rater": rater.name, "revoked": rater.revoked},
        f"revoked {rater.name!r}: their link no longer opens the rating screen",
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    rows = []
    for study in store.list_studies():
        counts = store.rating_counts(study.id)
        rows.append(
            {
                "name": study.name,
                "id": study.id,
                "dataset": study.dataset,
                "run_id": study.run_id,
                "n_images": len(store.image_ids(study.id)),
                "raters": len(store.list_raters(study.id)),
                "ratings": sum(counts.values()),
            }
        )
    text = (
        "\n".join(
            f"{r['name']} ({r['id']}): {r['n_images']} images, {r['raters']} raters, {r['ratings']} ratings"
            for r in rows
        )
        or "no studies yet"
    )
    _emit(args, {"studies": rows}, text)
    return 0


COMMANDS = {"create": _create, "results": _results, "export": _export, "revoke": _revoke, "list": _list}


def run(args: argparse.Namespace) -> int:
    """Run one ``turing`` sub-command; user errors print one line to stderr and return 2."""
    try:
        return COMMANDS[args.turing_command](args)
    except (ValueError, KeyError, FileNotFoundError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"turing {args.turing_command}: {message}", file=sys.stderr)
        if args.json:
            print(json.dumps({"error": str(message)}))
        return 2
