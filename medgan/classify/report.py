"""A comparison's result as a paper-ready markdown table, long-format CSV and JSON files.

Training-set size sweeps draw their synthetic images from the chosen generator, which was trained on the
full training split, not on each size's real images: training one GAN per size and fold costs minutes to
hours each on a CPU (the suite and most users run on one), so instead every synthetic-arm number at a
reduced size is labelled "generator trained on the full training split" (:func:`arm_label`).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd

from medgan import workspace
from medgan.classify.arms import ARMS
from medgan.classify.metrics import MACRO

TABLE_METRICS = {
    "accuracy": "Accuracy",
    "sensitivity": "Sensitivity",
    "specificity": "Specificity",
    "f1": "F1",
    "auc": "AUC",
}
RESULT_FILE, CSV_FILE, TABLE_FILE = "comparison.json", "metrics.csv", "table.md"


def metrics_frame(result: dict) -> pd.DataFrame:
    """One row per size, arm, scope (class or macro) and metric: value, 95% CI, n_test, n_patients."""
    return pd.DataFrame(result["metrics"])


def paired_frame(result: dict, size: str | None = None) -> pd.DataFrame:
    """One row per paired test (arm vs baseline), of one training-set size when ``size`` is given."""
    frame = pd.DataFrame(result["paired_tests"])
    return frame if size is None or frame.empty else frame[frame["size"] == size].reset_index(drop=True)


def generator_note(result: dict) -> str:
    """What the synthetic arms' generator was trained on (the label of reduced-size numbers)."""
    n = result.get("n_seen_by_generator")
    if n:
        return f"generator trained on the full training split ({n} real images)"
    return "generator trained on its own training data, not on this size's real images"


def arm_label(result: dict, arm: str, sizes: list[str]) -> str:
    """The arm's name, plus :func:`generator_note` for a synthetic arm when one of ``sizes`` is a reduced size
    (its synthetic images then come from a generator that saw more real images than the arm)."""
    reduced = any(size != "all" for size in sizes)
    if ARMS[arm].synthetic and result.get("generators") and reduced:
        return f"{arm} ({generator_note(result)})"
    return arm


def _cell(row: pd.Series) -> str:
    return f"{row['value']:.3f} ({row['ci_low']:.3f}-{row['ci_high']:.3f})"


def _p_value(result: dict, size: str, arm: str, test: str) -> str:
    """The macro-scope p-value of ``test`` for ``arm`` against the baseline ("ref." for the baseline)."""
    if arm == result["baseline"]:
        return "ref."
    hits = [
        t["p_value"]
        for t in result["paired_tests"]
        if t["size"] == size and t["arm_b"] == arm and t["test"] == test and t["scope"] == MACRO
    ]
    return f"{hits[0]:.3g}" if hits else "n/a"


def table_frame(result: dict, size: str) -> pd.DataFrame:
    """The metric rows a table shows at ``size``: with two classes sensitivity, specificity and F1 of the
    positive class (accuracy and AUC are the same either way), otherwise macro averages."""
    positive = result.get("positive_class")
    frame = metrics_frame(result)
    frame = frame[frame["size"] == size]
    macro = frame[frame["scope"] == MACRO]
    if not positive:
        return macro
    per_class = frame[
        (frame["scope"] == positive) & frame["metric"].isin(["sensitivity", "specificity", "f1"])
    ]
    return pd.concat([macro[~macro["metric"].isin(per_class["metric"])], per_class])


def _caption(result: dict, size: str, frame: pd.DataFrame) -> str:
    cfg, positive = result["config"], result.get("positive_class")
    scope = (
        f"Sensitivity, specificity and F1 for '{positive}' as the positive class"
        if positive
        else f"Macro averages over {len(result['class_names'])} classes"
    )
    source = f" (synthetic from run(s) {', '.join(cfg['runs'])})" if result["generators"] else ""
    level = result["dataset"].get("split_level", "patient-level")
    units = (
        "each its own patient"
        if level == "image-level"
        else f"{int(frame['n_patients'].iloc[0])} patients or duplicate groups"
    )
    caption = (
        f"Dataset {result['dataset']['name']}, {cfg['model']} at {cfg['resolution']} px, {cfg['folds']}-fold "
        f"{level} cross-validation, training size {size}; pooled out-of-fold test predictions on "
        f"n = {int(frame['n_test'].iloc[0])} images ({units}). {scope}; "
        f"95% {level} bootstrap intervals ({cfg['n_bootstrap']} replicates); p-values of paired tests "
        f"against '{result['baseline']}'. The other arms add {cfg['synthetic_per_class']} augmented and/or "
        f"synthetic images per class{source}."
    )
    if result["dataset"].get("split_warning"):
        caption = f"WARNING: {result['dataset']['split_warning']} " + caption
    if result.get("n_seen_by_generator"):
        caption += (
            f" The {result['n_seen_by_generator']} images the generator was trained on were used for "
            "training only, never tested."
        )
    if result["generators"] and size != "all":
        caption += (
            f" Synthetic arms at size {size}: {generator_note(result)}, not on the {size} real images "
            "the arm trains on."
        )
    return caption


def markdown_table(result: dict, size: str | None = None) -> str:
    """Metrics per arm as 'value (95% CI)' (see :func:`table_frame`), McNemar and DeLong p against the baseline."""
    size = size or result["sizes"][-1]
    frame = table_frame(result, size)
    header = ["Arm", *TABLE_METRICS.values(), "McNemar p", "DeLong p"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for arm in result["config"]["arms"]:
        mine = frame[frame["arm"] == arm].set_index("metric")
        cells = [_cell(mine.loc[m]) for m in TABLE_METRICS]
        p_values = [_p_value(result, size, arm, test) for test in ("McNemar exact", "DeLong AUC")]
        lines.append("| " + " | ".join([arm_label(result, arm, [size]), *cells, *p_values]) + " |")
    return "\n".join(lines) + "\n\n" + _caption(result, size, frame) + "\n"


def markdown_size_table(result: dict, metric: str = "f1") -> str:
    """``metric`` (as in :func:`table_frame`) per arm (rows) and training-set size (columns), with 95% CIs."""
    frames = {size: table_frame(result, size) for size in result["sizes"]}
    frames = {size: frame[frame["metric"] == metric].set_index("arm") for size, frame in frames.items()}
    n_real = {
        size: round(
            sum(
                t["n_train_real"]
                for t in result["trainings"]
                if t["size"] == size and t["arm"] == result["baseline"]
            )
            / result["config"]["folds"]
        )
        for size in frames
    }
    header = ["Arm", *(f"{size} (n = {n_real[size]})" for size in frames)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for arm in result["config"]["arms"]:
        cells = [_cell(frame.loc[arm]) for frame in frames.values()]
        lines.append("| " + " | ".join([arm_label(result, arm, list(frames)), *cells]) + " |")
    label = TABLE_METRICS.get(metric, metric)
    return (
        "\n".join(lines) + f"\n\n{label} (95% CI) against training-set size: real training images per fold "
        "(mean n in the header); the other arms add their augmented and/or synthetic images to these.\n"
    )


def paper_tables(result: dict) -> str:
    """The main table at the largest size, plus the F1-against-size table when there are several sizes."""
    tables = markdown_table(result)
    return tables + ("\n" + markdown_size_table(result) if len(result["sizes"]) > 1 else "")


def metrics_csv(result: dict) -> str:
    """The long-format metrics table as CSV text."""
    buffer = io.StringIO()
    metrics_frame(result).to_csv(buffer, index=False)
    return buffer.getvalue()


def result_json(result: dict) -> str:
    """The whole result (config, provenance, trainings with curves and predictions, metrics, tests)."""
    return json.dumps(result, indent=1, sort_keys=True)


def save_result(result: dict, folder: Path) -> Path:
    """Write comparison.json, metrics.csv and table.md atomically into ``folder``; returns the JSON path."""
    folder = Path(folder)
    workspace.atomic_write_text(folder / CSV_FILE, metrics_csv(result))
    workspace.atomic_write_text(folder / TABLE_FILE, paper_tables(result))
    workspace.atomic_write_text(folder / RESULT_FILE, result_json(result))
    return folder / RESULT_FILE


def load_result(folder: Path) -> dict:
    """Read a saved comparison; raises ValueError naming the file when it is missing or unreadable."""
    path = Path(folder) / RESULT_FILE
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the comparison result ({exc})") from exc


def new_result_folder(job_or_name: str) -> Path:
    """``<workspace>/comparisons/<name>/`` for CLI runs (jobs use their own folder)."""
    return workspace.subdir("comparisons", job_or_name)
