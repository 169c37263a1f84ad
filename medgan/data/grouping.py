"""After decoding an import: patient ids, duplicate groups, the unit of splitting and the split itself.

The manifest gains ``split_group``: the patient, merged with every patient it shares a duplicate group with.
Splits and folds keep each ``split_group`` whole, so neither a patient nor a copy of an image crosses them.
What was done is written to the dataset folder: ``ingest_report.json`` (patient rule, duplicate summary)
and ``duplicates.csv`` (one row per image in a duplicate group). A duplicate group whose copies carry
different labels (BUSI ``benign_433`` = ``malignant_145``) stays in one split and is listed as a label
conflict; with ``drop_duplicates`` it is dropped whole, other groups keep their first copy.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from medgan.data.duplicates import (
    FEATURE,
    NEAR_THRESHOLD,
    DuplicateGroup,
    copies_to_drop,
    exact_sets,
    find_duplicates,
    pixel_hashes,
    split_units,
)
from medgan.data.frames import SkippedFile
from medgan.data.patients import AUTO, PatientRule, assign_patients, image_level
from medgan.data.splits import patient_split
from medgan.data.store import DatasetInfo
from medgan.workspace import atomic_write_json

REPORT_FILE = "ingest_report.json"
DUPLICATES_FILE = "duplicates.csv"
DUPLICATE_COLUMNS = ["group", "kind", "row", "source", "label", "split", "similarity", "dropped"]


@dataclass
class GroupingOptions:
    """patient_pattern: ``auto``, ``none`` or a regex (see :mod:`medgan.data.patients`); near_threshold:
    correlation at which two images are near copies (None: exact copies only); drop_duplicates: keep one
    image per duplicate group (conflicting-label groups dropped whole)."""

    patient_pattern: str = AUTO
    near_threshold: float | None = NEAR_THRESHOLD
    drop_duplicates: bool = False


@dataclass
class Grouped:
    """The manifest after grouping, which rows of the decoded images it keeps, files dropped, the report."""

    manifest: pd.DataFrame
    keep: np.ndarray  # bool per decoded row
    dropped: list[SkippedFile]
    report: dict  # JSON-ready: patients, duplicates, options
    table: pd.DataFrame  # duplicates.csv


def _fill_patients(manifest: pd.DataFrame, rule: str) -> PatientRule:
    """Patient ids for rows without one (from ``rule`` on their source path); returns what the rule did."""
    missing = manifest["patient_id"].isna().to_numpy()
    ids, report = assign_patients(manifest.loc[missing, "source"].tolist(), rule, manifest["label"].unique())
    manifest.loc[missing, "patient_id"] = ids
    report.n_given = int((~missing).sum())
    return report


def _count_patients(report: PatientRule, manifest: pd.DataFrame) -> dict:
    """The rule's report with the final counts (after any dropped copies), JSON-ready."""
    report.n_images, report.n_patients = len(manifest), int(manifest["patient_id"].nunique())
    report.image_level = image_level(manifest)
    return report.to_dict()


def _table(groups: list[DuplicateGroup], manifest: pd.DataFrame, drop: dict[int, str]) -> pd.DataFrame:
    sources, labels = manifest["source"].tolist(), manifest["label"].tolist()  # lists: no per-cell look-up
    rows = [
        {
            "group": g,
            "kind": group.kind,
            "row": row,
            "source": sources[row],
            "label": labels[row],
            "similarity": r,
            "dropped": row in drop,
        }
        for g, group in enumerate(groups, start=1)
        for row, r in zip(group.rows, group.similarity, strict=True)
    ]
    table = pd.DataFrame(rows, columns=[c for c in DUPLICATE_COLUMNS if c != "split"])
    return table.astype({"group": int, "row": int, "similarity": float, "dropped": bool})


def _kept_groups(
    groups: list[DuplicateGroup], drop: dict[int, str], new_row: np.ndarray
) -> list[DuplicateGroup]:
    """The groups among the kept rows, renumbered to the kept manifest."""
    out = []
    for group in groups:
        kept = [
            (int(new_row[r]), s) for r, s in zip(group.rows, group.similarity, strict=True) if r not in drop
        ]
        if len(kept) > 1:
            out.append(DuplicateGroup([r for r, _ in kept], group.kind, [s for _, s in kept]))
    return out


def _summary(
    groups: list[DuplicateGroup], table: pd.DataFrame, n_exact: int, options: GroupingOptions
) -> dict:
    conflicts = table.groupby("group")["label"].nunique()
    crossing = table[~table["dropped"]].groupby("group")["split"].nunique()
    return {
        "feature": FEATURE,
        "threshold": options.near_threshold,
        "n_groups": len(groups),
        "n_exact_sets": n_exact,
        "n_near_groups": sum(g.kind == "near" for g in groups),
        "n_images": int(len(table)),
        "conflicting_label_groups": [int(g) for g in conflicts[conflicts > 1].index],
        "groups_across_splits": [int(g) for g in crossing[crossing > 1].index],
        "n_dropped": int(table["dropped"].sum()),
        "action": "dropped copies" if options.drop_duplicates else "grouped (each group kept in one split)",
    }


def duplicate_lines(summary: dict) -> tuple[str, list[str]]:
    """The ingestion report's duplicate summary as one sentence, and its warnings (label conflicts, groups
    across the files' own splits), for the CLI and the Data page."""
    near = (
        f"near copies at r >= {summary['threshold']}"
        if summary["threshold"] is not None
        else "exact copies only"
    )
    text = (
        f"Duplicates ({summary['feature']}; {near}): {summary['n_groups']} group(s) of {summary['n_images']} "
        f"images, {summary['n_exact_sets']} set(s) of identical images; {summary['action']}"
        + (f"; {summary['n_dropped']} dropped" if summary["n_dropped"] else "")
        + "."
    )
    warnings = []
    if conflicts := summary["conflicting_label_groups"]:
        warnings.append(
            f"{len(conflicts)} duplicate group(s) hold copies with different labels (groups "
            f"{', '.join(map(str, conflicts))} in duplicates.csv): check those labels."
        )
    if across := summary["groups_across_splits"]:
        warnings.append(
            f"The files' own splits put {len(across)} duplicate group(s) across train/val/test; the "
            "memorization audit leaves those held-out copies out of its threshold."
        )
    return text, warnings


def group_manifest(
    manifest: pd.DataFrame,
    images: np.ndarray | None,
    options: GroupingOptions,
    seed: int,
    precomputed: tuple[list[str], np.ndarray | None] | None = None,
) -> Grouped:
    """Patient ids, duplicate groups, ``split_group`` and (where the files gave none) the split of ``manifest``.

    ``images`` are the decoded rows of the manifest, in order (the base cache); ``precomputed`` (their
    :func:`pixel_hashes` and low-res features, made while decoding) spares reading them again.
    """
    manifest = manifest.reset_index(drop=True)
    patients = _fill_patients(manifest, options.patient_pattern)
    hashes, features = precomputed if precomputed is not None else (pixel_hashes(images), None)
    groups = find_duplicates(images, options.near_threshold, hashes, features)
    drop = copies_to_drop(groups, manifest["label"], manifest["source"]) if options.drop_duplicates else {}
    table = _table(groups, manifest, drop)
    keep = ~np.isin(np.arange(len(manifest)), list(drop))
    new_row = np.cumsum(keep) - 1
    dropped = [SkippedFile(manifest.at[row, "source"], reason) for row, reason in sorted(drop.items())]
    kept_manifest = manifest[keep].reset_index(drop=True).assign(index=lambda m: np.arange(len(m)))
    kept_groups = _kept_groups(groups, drop, new_row)
    kept_manifest["split_group"] = split_units(kept_manifest["patient_id"].to_numpy(), kept_groups)
    if (kept_manifest["split"] == "").any():
        kept_manifest["split"] = patient_split(
            kept_manifest["label"].to_numpy(), kept_manifest["split_group"].to_numpy(), seed=seed
        )
    table["row"] = [
        int(new_row[r]) if not d else -1 for r, d in zip(table["row"], table["dropped"], strict=True)
    ]
    splits = kept_manifest["split"].tolist()
    table["split"] = [splits[r] if r >= 0 else "" for r in table["row"]]
    report = {
        "patients": _count_patients(patients, kept_manifest),
        "duplicates": _summary(groups, table, len(exact_sets(hashes)), options),
        "options": asdict(options),
    }
    return Grouped(kept_manifest, keep, dropped, report, table)


def write_report(folder, grouped: Grouped) -> None:
    """``ingest_report.json`` and ``duplicates.csv`` into a dataset folder."""
    grouped.table[DUPLICATE_COLUMNS].to_csv(folder / DUPLICATES_FILE, index=False)
    atomic_write_json(folder / REPORT_FILE, grouped.report)


def load_report(info: DatasetInfo) -> dict:
    """A dataset's ingestion report (patient rule, duplicates); ``{}`` for datasets imported before it existed."""
    path = info.folder / REPORT_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


def load_duplicates(info: DatasetInfo) -> pd.DataFrame:
    """One row per image in a duplicate group (group, kind, row, source, label, split, similarity, dropped)."""
    path = info.folder / DUPLICATES_FILE
    if not path.is_file():
        return pd.DataFrame(columns=DUPLICATE_COLUMNS)
    return pd.read_csv(
        path, dtype={"source": str, "label": str, "split": str, "kind": str}, keep_default_na=False
    )


def rows_with_copy_in(info: DatasetInfo, rows: np.ndarray, other: np.ndarray) -> np.ndarray:
    """For each manifest row in ``rows``: True when a copy of it (same duplicate group) is among ``other``."""
    table = load_duplicates(info)
    table = table[table["row"] >= 0]
    group_of = dict(zip(table["row"].astype(int), table["group"].astype(int), strict=True))
    other_groups = {group_of[r] for r in np.asarray(other).tolist() if r in group_of}
    return np.array([group_of.get(r) in other_groups for r in np.asarray(rows).tolist()], dtype=bool)
