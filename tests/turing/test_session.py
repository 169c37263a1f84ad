"""A rater's session: resume, per-rater order, refusals, and concurrent raters losing nothing."""

from __future__ import annotations

import threading

import pytest

from medgan.turing import session, store
from medgan.turing.access import AccessRefused


def test_resume_continues_where_the_rater_left_off(study):
    _, raters = study
    token = raters[0].token
    order = session.image_order(token)
    for image_id in order[:5]:
        assert session.next_image_id(token) == image_id
        session.record_answer(token, image_id, "real", 3)
    assert session.progress(token) == session.Progress(5, 12)
    # "resume": a new visit recomputes everything from the store and the token
    assert session.image_order(token) == order
    assert session.next_image_id(token) == order[5]


def test_two_raters_get_different_orders_of_the_same_images(study):
    _, raters = study
    a, b = (session.image_order(r.token) for r in raters[:2])
    assert a != b and sorted(a) == sorted(b)


def test_finished_rater_has_no_next_image(study):
    _, raters = study
    token = raters[2].token
    for image_id in session.image_order(token):
        session.record_answer(token, image_id, "synthetic", 5)
    assert session.next_image_id(token) is None and session.progress(token).finished


def test_wrong_missing_and_revoked_tokens_are_refused(study):
    s, raters = study
    with pytest.raises(AccessRefused, match="not valid"):
        session.next_image_id("not-a-token")
    with pytest.raises(AccessRefused, match="needs a rater link"):
        session.progress("")
    image_id = session.next_image_id(raters[1].token)
    store.set_revoked(s.id, "B")
    with pytest.raises(AccessRefused, match="revoked"):
        session.record_answer(raters[1].token, image_id, "real", 3)
    with pytest.raises(AccessRefused, match="revoked"):
        session.serve_image(raters[1].token, image_id)


def test_answers_are_validated(study):
    _, raters = study
    token = raters[0].token
    image_id = session.next_image_id(token)
    with pytest.raises(ValueError, match="answer"):
        session.record_answer(token, image_id, "maybe", 3)
    with pytest.raises(ValueError, match="confidence"):
        session.record_answer(token, image_id, "real", 6)
    with pytest.raises(KeyError, match="not part of this study"):
        session.record_answer(token, "someone-elses-image", "real", 3)
    assert session.progress(token).done == 0


def test_concurrent_raters_lose_nothing(study):
    s, raters = study
    errors: list[BaseException] = []
    start = threading.Barrier(len(raters) * 2)

    def rate(token: str, images: list[str]) -> None:
        start.wait()
        try:
            for image_id in images:
                session.record_answer(token, image_id, "real", 3)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = []
    for rater in raters:  # each rater answers from two browser tabs at once, half the images each
        order = session.image_order(rater.token)
        threads += [
            threading.Thread(target=rate, args=(rater.token, order[0::2])),
            threading.Thread(target=rate, args=(rater.token, order[1::2])),
        ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.rating_counts(s.id) == {r.token: 12 for r in raters}


def test_the_same_answer_sent_twice_at_once_is_saved_once(study):
    _, raters = study
    token = raters[0].token
    image_id = session.next_image_id(token)
    outcomes: list[str] = []
    start = threading.Barrier(4)

    def send() -> None:
        start.wait()
        try:
            session.record_answer(token, image_id, "synthetic", 2)
            outcomes.append("saved")
        except store.AlreadyRated:
            outcomes.append("duplicate")

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["duplicate"] * 3 + ["saved"]
