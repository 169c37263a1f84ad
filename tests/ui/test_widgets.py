"""Shared widgets: the run picker offers any run with a checkpoint and filters by the chosen dataset."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from medgan.runs import list_runs


def _picker_page(dataset_name: str | None) -> None:
    import streamlit as st

    from medgan.data.store import get_dataset
    from medgan.ui.widgets import run_picker

    dataset = get_dataset(dataset_name) if dataset_name else None
    st.session_state["picked"] = run_picker("picker", dataset=dataset)


def _app(dataset_name: str | None) -> AppTest:
    return AppTest.from_function(_picker_page, args=(dataset_name,), default_timeout=30).run()


def test_a_cancelled_run_with_a_checkpoint_is_offered(lab):
    (run,) = list_runs()
    assert run.status == "cancelled" and run.step == 3 and run.has_checkpoint
    at = _app(None)
    assert not at.exception
    assert (
        at.selectbox(key="picker").options[1].startswith(f"{lab} (dcgan, demo-phantom, cancelled, step 3/8)")
    )


def test_runs_of_other_datasets_need_a_toggle_and_bring_a_warning(lab):
    at = _app("other")
    assert not at.exception
    # no run was trained on 'other': all are shown, and picking one warns loudly
    assert len(at.selectbox(key="picker").options) == 2
    assert "not on 'other'" in at.warning[0].value
    at = _app("demo-phantom")
    assert len(at.selectbox(key="picker").options) == 2 and not at.warning and not at.toggle


def test_only_runs_of_the_chosen_dataset_unless_asked(lab):
    from medgan.train.config import TrainConfig
    from medgan.train.trainer import create_run, train_run

    config = {
        "dataset": "other",
        "arch": "dcgan",
        "resolution": 32,
        "batch_size": 4,
        "steps": 2,
        "width": 8,
        "z_dim": 16,
        "ema": False,
        "device": "cpu",
        "checkpoint_every": 1,
    }
    other = create_run(TrainConfig.from_dict(config))
    unfinished = create_run(TrainConfig.from_dict(config))  # no checkpoint yet: never offered
    train_run(other)
    at = _app("other")
    assert at.selectbox(key="picker").options == [f"{other} (dcgan, other, done, step 2/2)"]
    assert not at.warning and unfinished not in str(at.selectbox(key="picker").options)
    at.toggle(key="picker_all").set_value(True).run()
    assert len(at.selectbox(key="picker").options) == 3
    at.selectbox(key="picker").set_value("demo").run()
    assert "trained on 'demo-phantom', not on 'other'" in at.warning[0].value
