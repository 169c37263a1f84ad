"""Patient ids from file names, by a rule the user can see and change.

Images that carry a patient id (DICOM PatientID, a label CSV's ``patient_id`` column, MedMNIST rows) keep
it. For the rest, a rule turns the file's path relative to the import root, without its extension
(``pneumonia/person12_bacteria_3``), into a patient id:

- ``auto`` (default) tries the built-in patterns (:data:`BUILTIN_PATTERNS`: a folder named patient/subject/
  case + number, a CBIS-DDSM ``P_00001`` token, the folder holding the file, the leading token before ``_``,
  all but the last ``-`` group) on each file, first match wins, and applies a
  pattern only when it groups the files it matches meaningfully (some id holds several files, no id holds
  most of them, no id is just a class name). Each pattern's ids must contain a digit, so a class word such
  as BUSI's ``benign_012`` is never read as a patient.
- a regular expression (``--patient-pattern``): searched in that path; its first group (or the whole match)
  is the patient id, applied as given.
- ``none``: every file is its own patient.

Files no rule matches are their own patient. When every image ends up its own patient, splits and intervals
are image-level, and every report says so (:func:`level_word`, :data:`IMAGE_LEVEL_WARNING`).

The built-in patterns follow the naming of public sets: the pediatric chest X-ray set (Kermany D. et al.,
Cell 172, 1122, 2018) names pneumonia images ``person1_bacteria_1`` (leading token) and normal ones
``IM-0115-0001`` / ``NORMAL2-IM-1427-0001`` (all but the last ``-`` group); NIH ChestX-ray14 (Wang X. et
al., CVPR 2017) ``00000001_000`` (patient, follow-up); CheXpert (Irvin J. et al., AAAI 2019)
``patient00001/study1/view1_frontal``; CBIS-DDSM (Lee R.S. et al., Sci. Data 4, 170177, 2017)
``Mass-Training_P_00001_LEFT_CC``. BUSI's ``benign (12)``, the brain MRI teaching set's ``Y30`` / ``no 10``,
ISIC's ``ISIC_0024306`` and the COVID-19 radiography set's ``COVID-12`` number images, not patients, and match
no pattern.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from medgan.data.store import DatasetInfo, load_manifest

AUTO, NONE = "auto", "none"
IMAGE_LEVEL_WARNING = (
    "Every image is its own patient (no patient ids found): splits, folds and intervals are "
    "image-level, and images of one patient may sit in both training and test data. Give "
    "patient ids (DICOM PatientID, a CSV patient_id column or a patient pattern) for "
    "patient-level results."
)
_MAX_SHARE = 0.5  # a built-in pattern putting more than this share of its files under one id is too coarse


@dataclass(frozen=True)
class PatientPattern:
    """A built-in file-name pattern: its name, the regex (group 1 is the id) and an example."""

    name: str
    regex: str
    example: str


BUILTIN_PATTERNS = (
    PatientPattern(
        "folder named after a patient",
        r"(?i)(?:^|/)((?:patient|subject|sub|case|pat)[-_]?\d+)/",
        "train/patient00001/study1/view1_frontal -> patient00001",
    ),
    PatientPattern(
        "CBIS-DDSM patient", r"(?:^|[/_])(P_\d{5})(?:[_/]|$)", "Mass-Training_P_00001_LEFT_CC -> P_00001"
    ),
    PatientPattern(
        "patient folder", r"^[^/]+/(?:[^/]+/)*?([^/]*\d[^/]*)/[^/]+$", "mass/P0012/slice_7 -> P0012"
    ),
    PatientPattern("leading token before '_'", r"(?:^|/)([^/_]*\d[^/_]*)_[^/]+$", "p0012_scan_3 -> p0012"),
    PatientPattern(
        "all but the last '-' group", r"(?:^|/)([^/]*\d[^/]*)-\d+$", "CASE-0042-0001 -> CASE-0042"
    ),
)


@dataclass
class PatientRule:
    """How patient ids were found: the rule asked for, what each pattern did, and the outcome."""

    rule: str = AUTO
    applied: list[dict] = field(default_factory=list)  # per pattern: name, regex, files, patients
    # per built-in pattern not applied: name, files, reason
    rejected: list[dict] = field(default_factory=list)
    n_given: int = 0  # images whose file (DICOM PatientID, MedMNIST row) or label CSV gave the patient id
    n_images: int = 0
    n_patients: int = 0
    n_own: int = 0  # files matched by no applied pattern: each its own patient
    image_level: bool = False

    def describe(self) -> str:
        """One paragraph for the ingestion report."""
        head = {
            AUTO: "Patient ids from file names: automatic (built-in patterns, applied only when they group "
            "files meaningfully).",
            NONE: "Patient ids from file names: none (every file its own patient).",
        }.get(self.rule, f"Patient ids from file names: pattern {self.rule!r}.")
        given = f"{self.n_given} image(s) carry a patient id (DICOM PatientID, label CSV or MedMNIST row)."
        parts = [given, head] if self.n_given else [head]
        parts += [
            f"{a['name']} ({a['regex']}): {a['files']} file(s) -> {a['patients']} patient(s)."
            for a in self.applied
        ]
        parts += [f"Not applied: {r['name']} ({r['files']} file(s)): {r['reason']}." for r in self.rejected]
        if self.n_own:
            parts.append(f"{self.n_own} file(s) matched no pattern: each is its own patient.")
        parts.append(f"Result: {self.n_images} images, {self.n_patients} patients.")
        if self.image_level:
            parts.append(IMAGE_LEVEL_WARNING)
        return " ".join(parts)

    def to_dict(self) -> dict:
        """JSON-ready form, with the description."""
        return {**asdict(self), "description": self.describe()}


def strip_extension(rel: str) -> str:
    """``tumor/p0012_scan_3.png`` -> ``tumor/p0012_scan_3`` (double extensions such as ``.nii.gz`` too)."""
    head, _, name = rel.rpartition("/")
    for ext in (".nii.gz",):
        if name.lower().endswith(ext):
            return f"{head}/{name[: -len(ext)]}" if head else name[: -len(ext)]
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    return f"{head}/{stem}" if head else stem


def compile_pattern(text: str) -> re.Pattern:
    """A user's patient pattern, compiled; ValueError naming it when it is not a regular expression."""
    try:
        return re.compile(text)
    except re.error as exc:
        raise ValueError(f"patient pattern {text!r} is not a regular expression: {exc}") from None


def _match(pattern: re.Pattern, key: str) -> str | None:
    found = pattern.search(key)
    if found is None:
        return None
    value = found.group(1) if pattern.groups else found.group(0)
    return value or None


def _why_not(ids: list[str], labels: set[str]) -> str | None:
    """Why a built-in pattern's ids do not group files meaningfully (None when they do)."""
    counts = Counter(ids)
    if len(counts) == len(ids):
        return "every file got a different id, so it groups nothing"
    if len(counts) < 2 or max(counts.values()) > max(2, _MAX_SHARE * len(ids)):
        return f"one id holds {max(counts.values())} of {len(ids)} files, too coarse for a patient"
    if clash := sorted(i for i in counts if i.lower() in labels):
        return f"its ids include class names ({', '.join(clash[:3])})"
    return None


def assign_patients(
    sources: Sequence[str], rule: str = AUTO, labels: Sequence[str] = ()
) -> tuple[list[str], PatientRule]:
    """Patient id for each source path (relative, with extension) under ``rule``, and what the rule did.

    ``labels`` are the files' class names (a built-in pattern whose ids are class names is not applied).
    """
    keys = [strip_extension(s.replace("\\", "/")) for s in sources]
    ids: list[str | None] = [None] * len(keys)
    report = PatientRule(rule=rule, n_images=len(keys))
    if rule == AUTO:
        label_set = {str(label).lower() for label in labels}
        for pattern in BUILTIN_PATTERNS:
            compiled = re.compile(pattern.regex)
            hits = {
                i: v for i, k in enumerate(keys) if ids[i] is None and (v := _match(compiled, k)) is not None
            }
            if not hits:
                continue
            reason = _why_not(list(hits.values()), label_set)
            if reason is None:
                for i, value in hits.items():
                    ids[i] = value
                report.applied.append(
                    {
                        "name": pattern.name,
                        "regex": pattern.regex,
                        "files": len(hits),
                        "patients": len(set(hits.values())),
                    }
                )
            else:
                report.rejected.append({"name": pattern.name, "files": len(hits), "reason": reason})
    elif rule != NONE:
        compiled = compile_pattern(rule)
        ids = [_match(compiled, k) for k in keys]
        matched = [v for v in ids if v is not None]
        report.applied.append(
            {"name": "user pattern", "regex": rule, "files": len(matched), "patients": len(set(matched))}
        )
    report.n_own = sum(v is None for v in ids)
    out = [v if v is not None else s for v, s in zip(ids, sources, strict=True)]
    report.n_patients = len(set(out))
    report.image_level = report.n_patients == report.n_images
    return out, report


def preview_groups(
    sources: Sequence[str], rule: str = AUTO, labels: Sequence[str] = (), max_groups: int = 20
) -> tuple[pd.DataFrame, PatientRule]:
    """The patients ``rule`` makes from ``sources``: largest first, with their file count and example files."""
    ids, report = assign_patients(sources, rule, labels)
    table = pd.DataFrame({"patient_id": ids, "file": list(sources)})
    grouped = table.groupby("patient_id")["file"].agg(files="size", examples=lambda f: ", ".join(list(f)[:3]))
    grouped = grouped.reset_index().sort_values(["files", "patient_id"], ascending=[False, True])
    return grouped.head(max_groups).reset_index(drop=True), report


def image_level(manifest: pd.DataFrame) -> bool:
    """True when every image of a manifest is its own patient (so splits and intervals are image-level)."""
    return len(manifest) > 1 and manifest["patient_id"].nunique() == len(manifest)


def level_word(manifest: pd.DataFrame) -> str:
    """``"image-level"`` when every image is its own patient, else ``"patient-level"`` (for captions)."""
    return "image-level" if image_level(manifest) else "patient-level"


def split_warning(info: DatasetInfo) -> str:
    """:data:`IMAGE_LEVEL_WARNING` for a dataset whose images are each their own patient, else ``""``."""
    return IMAGE_LEVEL_WARNING if image_level(load_manifest(info)) else ""


def folder_names(root: Path) -> list[str]:
    """The relative paths an import of server folder ``root`` would see (for previewing a rule)."""
    from medgan.data.ingest import list_source_files  # ingest imports this module

    return [p.relative_to(root).as_posix() for p in list_source_files(root)] if root.is_dir() else []


def folder_labels(names: Sequence[str]) -> list[str]:
    """The first folder of each relative path (the labels ``--labels folders`` would give)."""
    return sorted({n.split("/", 1)[0] for n in names if "/" in n})
