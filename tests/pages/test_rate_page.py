"""The rating screen through the app entry point: a rater's link shows only that rater's session."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from medgan.turing import session, store
from medgan.turing.study import StudySpec, create_study

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def rater_study(demo_dataset):
    """A small study on the demo dataset with the shipped demo generator: 2 real + 2 synthetic, raters A and B."""
    spec = StudySpec(
        name="page-study",
        dataset=demo_dataset.name,
        run_id="demo",
        n_real=2,
        n_synthetic=2,
        raters=["A", "B"],
        seed=5,
    )
    return create_study(spec)


def _open(token: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["rater"] = token
    return at.run()


def test_rater_link_shows_only_the_rating_screen(rater_study):
    _, raters = rater_study
    at = _open(raters[0].token)
    assert not at.exception
    assert [t.value for t in at.title] == ["Real or synthetic?"]
    assert "0 of 4 images rated" in at.get("progress")[0].proto.text
    shown = [m.value for m in at.markdown if '<img class="rate-image"' in m.value]
    # our PNG inline: no file name, no URL
    assert len(shown) == 1 and 'src="data:image/png;base64,' in shown[0]
    assert at.radio(key="rate_answer").options == ["Real", "Synthetic"]
    texts = " ".join(m.value for m in at.markdown if "<img" not in m.value) + " ".join(
        c.value for c in at.caption
    )
    assert "mass" not in texts and "normal" not in texts and "demo" not in texts  # no labels, no sources
    assert not at.sidebar.children or all(not c.children for c in at.sidebar.children.values())


def test_a_rater_cannot_switch_to_the_owner_pages(rater_study):
    _, raters = rater_study
    at = _open(raters[0].token)
    for page in ("views/turing.py", "views/home.py", "views/gallery.py"):
        with pytest.raises(ValueError, match=r"Known pages: \['[^',]*views/rate\.py'\]"):
            at.switch_page(page)
    assert [t.value for t in at.run().title] == ["Real or synthetic?"]
    assert not at.text_input  # no admin password box, no owner widgets


def test_answering_saves_at_once_and_resume_continues(rater_study):
    _, raters = rater_study
    token = raters[0].token
    order = session.image_order(token)
    at = _open(token)
    at.radio(key="rate_answer").set_value("synthetic")
    at.radio(key="rate_confidence").set_value(4)
    at.text_area(key="rate_comment").set_value("too smooth")
    at.button[0].click().run()
    assert not at.exception
    rows = store.ratings_with_truth(raters[0].study_id)
    assert [(r["image_id"], r["answer"], r["confidence"], r["comment"]) for r in rows] == [
        (order[0], "synthetic", 4, "too smooth")
    ]
    assert "1 of 4 images rated" in at.get("progress")[0].proto.text
    # cleared
    assert at.radio(key="rate_answer").value is None and at.radio(key="rate_confidence").value is None
    assert order[1] in at.session_state["rate_prefetch"] or order[2] in at.session_state["rate_prefetch"]
    again = _open(token)  # a new visit with the same link resumes at the second image
    assert "1 of 4 images rated" in again.get("progress")[0].proto.text
    assert session.next_image_id(token) == order[1]


def test_saving_without_an_answer_or_a_confidence_is_refused(rater_study):
    _, raters = rater_study
    at = _open(raters[0].token)
    at.button[0].click().run()
    assert "Choose Real or Synthetic and how sure you are" in at.warning[0].value
    at.radio(key="rate_answer").set_value("real")
    at.button[0].click().run()  # confidence is required too, so its chart is not one bar
    assert at.warning and store.rating_counts(raters[0].study_id) == {}


def test_thank_you_at_the_end(rater_study):
    _, raters = rater_study
    token = raters[1].token
    for image_id in session.image_order(token):
        session.record_answer(token, image_id, "real", 3)
    at = _open(token)
    assert "Thank you" in at.success[0].value and not any("<img" in m.value for m in at.markdown)


def test_wrong_and_revoked_tokens_are_refused(rater_study):
    study, raters = rater_study
    at = _open("guessed-token")
    assert "not valid" in at.error[0].value and not at.radio
    store.set_revoked(study.id, "B")
    at = _open(raters[1].token)
    assert "revoked" in at.error[0].value and not at.radio
