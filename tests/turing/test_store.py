"""The Turing tables: ratings are append-only, truth is separate, raters can be revoked."""

from __future__ import annotations

import sqlite3

import pytest

from medgan.turing import session, store


def _rate_first(rater) -> int:
    image_id = session.next_image_id(rater.token)
    return session.record_answer(rater.token, image_id, "synthetic", 4, "edges look smooth")


def test_ratings_cannot_be_updated_or_deleted(study):
    _, raters = study
    rating_id = _rate_first(raters[0])
    conn = store.connect()
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE turing_ratings SET answer = 'real' WHERE id = ?", (rating_id,))
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM turing_ratings WHERE id = ?", (rating_id,))
        row = conn.execute(
            "SELECT answer, confidence, comment FROM turing_ratings WHERE id = ?", (rating_id,)
        ).fetchone()
    finally:
        conn.close()
    assert tuple(row) == ("synthetic", 4, "edges look smooth")


def test_a_second_answer_for_the_same_image_is_refused(study):
    _, raters = study
    token = raters[0].token
    image_id = session.next_image_id(token)
    session.record_answer(token, image_id, "real", 2)
    with pytest.raises(store.AlreadyRated):
        session.record_answer(token, image_id, "synthetic", 5)
    assert store.rating_counts(raters[0].study_id) == {token: 1}


def test_truth_lives_in_its_own_table(study):
    s, _ = study
    conn = store.connect()
    try:
        image_columns = [r["name"] for r in conn.execute("PRAGMA table_info(turing_images)")]
        truth = conn.execute(
            "SELECT source, COUNT(*) FROM turing_truth WHERE study_id = ? GROUP BY source", (s.id,)
        ).fetchall()
    finally:
        conn.close()
    assert image_columns == ["id", "study_id", "png"]
    assert {r[0]: r[1] for r in truth} == {"real": 6, "synthetic": 6}


def test_revoke_by_name(study):
    s, raters = study
    assert store.set_revoked(s.id, "B").revoked
    assert [r.revoked for r in store.list_raters(s.id)] == [False, True, False]
    with pytest.raises(KeyError, match="no rater named"):
        store.set_revoked(s.id, "nobody")


def test_study_lookup_by_name_or_id(study):
    s, _ = study
    assert store.get_study("pilot").id == s.id == store.get_study(s.id).id
    with pytest.raises(store.StudyNotFound):
        store.get_study("missing")


def test_deleting_a_study_removes_its_rows_and_keeps_ratings_append_only(study):
    from medgan import manage

    s, raters = study
    session.record_answer(raters[0].token, session.next_image_id(raters[0].token), "real", 4)
    plan = manage.plan_delete("study", s.id)
    assert plan.removes == [
        "study 'pilot': 3 raters (their links stop working), 12 images with their truth, 1 ratings"
    ]
    manage.delete(plan)
    assert store.list_studies() == [] and store.find_rater(raters[0].token) is None
    conn = store.connect()
    try:
        assert conn.execute("SELECT COUNT(*) FROM turing_ratings").fetchone()[0] == 0
        guard = (
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'turing_ratings_no_delete'"
        )
        assert conn.execute(guard).fetchone()[0] == 1  # the append-only guard is back
    finally:
        conn.close()
