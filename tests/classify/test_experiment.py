"""End to end on real images (brain MRI from ../shared/data at 32 px): tiny model, 1 epoch, 2 folds."""

import json

import numpy as np
import plotly.graph_objects as go
import pytest

from medgan.classify import figures, report
from medgan.classify.analysis import positive_class
from medgan.classify.config import CompareConfig
from medgan.classify.experiment import run_comparison
from medgan.classify.metrics import METRICS


@pytest.fixture
def tiny_config(brain_dataset) -> CompareConfig:
    return CompareConfig(
        dataset=brain_dataset.name,
        runs=("phantom",),
        folds=2,
        epochs=1,
        synthetic_per_class=16,
        sizes=(60, 0),
        n_bootstrap=50,
        batch_size=16,
        min_steps_per_epoch=2,
    )


@pytest.mark.slow
def test_tiny_comparison_runs_on_cpu_and_reports_everything(tiny_config, phantom_generator, tmp_path):
    messages = []
    result = run_comparison(
        tiny_config,
        progress=lambda f, m: messages.append((f, m)),
        generator_loader=lambda run: phantom_generator(["no_tumor", "tumor"]),
    )
    n_images = result["dataset"]["n_images"]
    assert result["sizes"] == ["60", "all"]
    assert len(result["trainings"]) == 2 * 2 * 4  # sizes x folds x arms
    for t in result["trainings"]:
        assert t["n_train_synthetic"] == (32 if "synthetic" in t["arm"] else 0)
        assert t["n_train_classic"] == (32 if "classic" in t["arm"] else 0)
        if t["size"] == "60":
            assert 55 <= t["n_train_real"] <= 65
    frame = report.metrics_frame(result)
    assert set(frame["metric"]) == set(METRICS)
    assert (frame["n_test"] == n_images).all()  # pooled folds: every image tested once per arm
    assert ((frame["ci_low"] <= frame["value"] + 1e-9) & (frame["value"] <= frame["ci_high"] + 1e-9)).all()
    paired = report.paired_frame(result)
    assert set(paired["test"]) == {"McNemar exact", "DeLong AUC"} and len(paired) == 2 * 3 * 2
    assert all(np.asarray(result["confusion"]["all"][arm]).sum() == n_images for arm in tiny_config.arms)
    assert [f for f, _ in messages] == sorted(f for f, _ in messages) and messages[-1] == (1.0, "done")
    assert "--sizes 60,all" in result["command"] and result["versions"]["torch"]

    table = report.markdown_table(result)
    assert table.count("\n| real") == 4 and "95% image-level bootstrap" in table  # brain MRI: no patient ids
    assert "WARNING: Every image is its own patient" in table and "patient-level cross" not in table
    assert result["positive_class"] == "tumor" and "for 'tumor' as the positive class" in table
    sens = frame[(frame["size"] == "all") & (frame["arm"] == "real") & (frame["metric"] == "sensitivity")]
    tumor_sens = sens[sens["scope"] == "tumor"].iloc[0]
    assert f"| {tumor_sens['value']:.3f} ({tumor_sens['ci_low']:.3f}-{tumor_sens['ci_high']:.3f}) |" in table
    sizes_table = report.markdown_size_table(result)
    assert sizes_table.splitlines()[0].startswith("| Arm | 60 (n = ") and sizes_table.count("\n| real") == 4
    note = "generator trained on its own training data, not on this size's real images"
    assert sizes_table.count(f"synthetic ({note}) |") == 2 and "| real+classic |" in sizes_table
    assert note not in table  # at the full training folds the generator saw no more than the arm
    assert f"Synthetic arms at size 60: {note}" in report.markdown_table(result, "60")
    assert report.markdown_table(result, "60").count(f"({note})") == 2
    assert [bar.name for bar in figures.metric_figure(result, "60").data][2] == f"real+synthetic ({note})"
    path = report.save_result(result, tmp_path)
    assert report.load_result(tmp_path) == json.loads(path.read_text())
    assert (tmp_path / "table.md").read_text() == table + "\n" + sizes_table
    assert (tmp_path / "metrics.csv").read_text().startswith("size,arm,scope,metric,value,ci_low,ci_high")
    for fig in (
        figures.metric_figure(result, "all"),
        figures.confusion_figure(result, "all"),
        figures.curves_figure(result, "all", "real+synthetic"),
        figures.size_figure(result),
    ):
        assert isinstance(fig, go.Figure) and fig.data
    assert len(figures.size_figure(result).data) == 4
    assert len(figures.size_figure(result).data[0].x) == 2


@pytest.mark.slow
def test_same_seed_same_predictions(brain_dataset):
    config = CompareConfig(
        dataset=brain_dataset.name,
        runs=(),
        arms=("real", "real+classic"),
        folds=2,
        epochs=1,
        synthetic_per_class=8,
        sizes=(40,),
        n_bootstrap=20,
        batch_size=16,
        min_steps_per_epoch=2,
    )
    first, second = run_comparison(config), run_comparison(config)
    assert [t["test_prob"] for t in first["trainings"]] == [t["test_prob"] for t in second["trainings"]]
    assert first["metrics"] == second["metrics"]


@pytest.mark.parametrize(
    ("names", "requested", "expected"),
    [
        (["mass", "normal"], None, "mass"),
        (["no_tumor", "tumor"], None, "tumor"),
        (["a", "b"], None, "a"),
        (["benign", "normal"], None, "benign"),
        (["a", "b"], "b", "b"),
        (["a", "b", "c"], None, None),
    ],
)
def test_positive_class(names, requested, expected):
    assert positive_class(names, requested) == expected


def test_unknown_positive_class_is_an_error():
    with pytest.raises(ValueError, match="positive class 'x' is not one of"):
        positive_class(["a", "b"], "x")
