"""The audit log: owner actions recorded with who/what/when; rows cannot be changed or removed."""

from __future__ import annotations

import sqlite3

import pytest

from medgan import audit, db
from medgan.jobs import store as jobs


def test_job_actions_are_logged_with_actor():
    audit.set_actor("owner@10.0.0.7 (session abcd1234)")
    job = jobs.create_job("train", {"run_id": "r1"}, title="my run")
    jobs.request_cancel(job)
    jobs.resume(job, launch=False)
    rows = audit.entries(f"job:{job}")
    assert list(rows["action"]) == ["queue job", "cancel job", "resume job"]
    assert set(rows["who"]) == {"owner@10.0.0.7 (session abcd1234)"}
    assert rows["at"].str.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00").all()
    assert '"title": "my run"' in rows["detail"].iloc[0]


def test_log_is_append_only():
    audit.record("delete dataset", "dataset:x", name="x")
    conn = db.connect(audit.SCHEMA)
    try:
        for sql in ("UPDATE audit_log SET who = 'someone else'", "DELETE FROM audit_log"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                conn.execute(sql)
    finally:
        conn.close()
    assert list(audit.entries()["who"]) == [audit.actor()]
