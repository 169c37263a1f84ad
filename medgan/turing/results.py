"""Owner-side results of a study: ratings joined with the truth, metrics per rater and pooled, agreement,
progress per rater, and the CSV export of every rating with its truth."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd

from medgan import audit, workspace
from medgan.data.patients import split_warning
from medgan.data.store import DatasetNotFound, get_dataset
from medgan.turing import stats, store
from medgan.turing.study import rater_link

RATING_COLUMNS = [
    "rating_id",
    "rater",
    "rater_revoked",
    "image_id",
    "truth",
    "label",
    "answer",
    "correct",
    "confidence",
    "comment",
    "created",
]


def ratings_frame(study_id: str) -> pd.DataFrame:
    """One row per rating with the truth and whether the answer was correct."""
    rows = [dict(r) for r in store.ratings_with_truth(study_id)]
    frame = pd.DataFrame(rows, columns=[c for c in RATING_COLUMNS if c != "correct"])
    frame["rater_revoked"] = frame["rater_revoked"].astype(bool)
    frame.insert(RATING_COLUMNS.index("correct"), "correct", frame["answer"] == frame["truth"])
    return frame


def ratings_csv(study_id: str) -> str:
    """All ratings with truth as CSV text (columns: :data:`RATING_COLUMNS`)."""
    return ratings_frame(study_id).to_csv(index=False)


def export_csv(study_id: str, path: Path) -> int:
    """Write all ratings with truth to ``path`` atomically, and the study's audit log (who created it,
    revoked raters, when) beside it as ``<stem>-audit.csv``; returns the number of ratings."""
    text = ratings_csv(study_id)
    workspace.atomic_write_text(Path(path), text)
    workspace.atomic_write_text(audit_path(Path(path)), audit.entries_csv(f"study:{study_id}"))
    return text.count("\n") - 1


def audit_path(ratings_path: Path) -> Path:
    """Where :func:`export_csv` puts the audit log next to the ratings file."""
    return ratings_path.with_name(f"{ratings_path.stem}-audit.csv")


def progress_table(study: store.Study, base_url: str | None = None) -> pd.DataFrame:
    """Per rater: name, answered / total, revoked, link."""
    total = len(store.image_ids(study.id))
    counts = store.rating_counts(study.id)
    return pd.DataFrame(
        [
            {
                "rater": r.name,
                "answered": counts.get(r.token, 0),
                "total": total,
                "revoked": r.revoked,
                "link": rater_link(r.token, base_url),
            }
            for r in store.list_raters(study.id)
        ]
    )


def _metrics(frame: pd.DataFrame) -> dict:
    return stats.detection_metrics(
        frame["truth"].to_numpy() == "synthetic", frame["answer"].to_numpy() == "synthetic"
    )


def _pooled(frame: pd.DataFrame) -> dict:
    """All raters together, accounting for images rated by several raters (GEE, clustered by image); the naive
    per-rating numbers (as if every rating were independent) are kept beside them for comparison."""
    correct, images = frame["correct"].to_numpy(bool), frame["image_id"].to_numpy()
    synthetic = frame["truth"].to_numpy() == "synthetic"
    accuracy = stats.clustered_proportion(correct, images)
    naive = _metrics(frame)
    return {
        "n": len(frame),
        "n_images": accuracy["n_clusters"],
        "n_raters": int(frame["rater"].nunique()),
        "accuracy": accuracy,
        "sensitivity": stats.clustered_proportion(correct[synthetic], images[synthetic]),
        "specificity": stats.clustered_proportion(correct[~synthetic], images[~synthetic]),
        "p_value": accuracy["p_value"],
        "method": accuracy["method"],
        "naive_binomial_p": naive["binomial_p"],
    }


def _agreement(frame: pd.DataFrame) -> dict:
    """Fleiss' kappa over images rated by every rater, and Cohen's kappa for each pair of raters."""
    wide = frame.pivot_table(index="image_id", columns="rater", values="answer", aggfunc="first")
    raters = list(wide.columns)
    pairs = []
    for a, b in itertools.combinations(raters, 2):
        both = wide[[a, b]].dropna()
        pairs.append(
            {
                "rater_a": a,
                "rater_b": b,
                "n_images": len(both),
                "kappa": stats.cohen_kappa(both[a].to_numpy(), both[b].to_numpy()),
            }
        )
    complete = wide.dropna()
    fleiss = math.nan
    if len(raters) >= 2 and len(complete):
        table = np.stack([(complete == answer).sum(axis=1).to_numpy() for answer in store.ANSWERS], axis=1)
        fleiss = stats.fleiss_kappa(table)
    return {
        "fleiss_kappa": fleiss,
        "fleiss_n_images": len(complete) if len(raters) >= 2 else 0,
        "fleiss_n_raters": len(raters),
        "cohen_pairs": pairs,
    }


def _split_warning(dataset: str) -> str:
    """The image-level warning for the study's dataset: its "unseen" real images may share patients with the
    generator's training images."""
    try:
        warning = split_warning(get_dataset(dataset))
    except DatasetNotFound:
        return ""
    return warning and warning + " The study's held-out real images may come from patients the generator saw."


def study_results(study_id: str, include_revoked: bool = False) -> dict:
    """Everything the results page and ``turing results --json`` show (NaN where there is no data).

    Ratings of revoked raters are left out of every number unless ``include_revoked``; their names are listed.
    """
    study = store.get_study(study_id)
    everything = ratings_frame(study.id)
    frame = everything if include_revoked else everything[~everything["rater_revoked"]]
    per_rater = [
        {"rater": name, "revoked": bool(group["rater_revoked"].iloc[0]), **_metrics(group)}
        for name, group in frame.groupby("rater", sort=True)
    ]
    revoked = sorted(set(everything.loc[everything["rater_revoked"], "rater"]))
    return {
        "study": {
            "id": study.id,
            "name": study.name,
            "dataset": study.dataset,
            "run_id": study.run_id,
            "seed": study.seed,
            "per_class": study.per_class,
            "n_images": len(store.image_ids(study.id)),
            "counts": study.details.get("counts", {}),
        },
        "split_warning": _split_warning(study.dataset),
        "n_ratings": len(frame),
        "revoked_raters": revoked,
        "revoked_included": include_revoked,
        "n_ratings_excluded": len(everything) - len(frame),
        "pooled": _pooled(frame),
        "per_rater": per_rater,
        "agreement": _agreement(frame),
        "by_confidence": stats.accuracy_by_confidence(
            frame["confidence"].to_numpy(), frame["correct"].to_numpy()
        ),
    }


def per_rater_table(results: dict) -> pd.DataFrame:
    """Flat per-rater table: value and 95% CI of accuracy, sensitivity, specificity, binomial p."""
    rows = []
    for entry in results["per_rater"]:
        row = {"rater": entry["rater"], "n": entry["n"]}
        for metric in ("accuracy", "sensitivity", "specificity"):
            m = entry[metric]
            row[metric] = m["value"]
            row[f"{metric} 95% CI"] = f"{m['ci_low']:.0%} to {m['ci_high']:.0%}" if m["n"] else "n/a"
        row["binomial p (vs 50%)"] = entry["binomial_p"]
        rows.append(row)
    return pd.DataFrame(rows)


def jsonable(obj):
    """``obj`` with NaN floats replaced by None, so it can be written as strict JSON."""
    if isinstance(obj, dict):
        return {k: jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, float) and math.isnan(obj):
        return None
    return obj
