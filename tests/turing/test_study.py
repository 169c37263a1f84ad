"""Creating a study: held-out real images, seeded synthetic ones, opaque ids, one token per rater."""

from __future__ import annotations

import numpy as np
import pytest

from medgan.data.store import load_manifest
from medgan.turing import store
from medgan.turing.blinding import decode_png
from medgan.turing.study import StudySpec, create_study, rater_link


def _truth(study_id: str) -> dict[str, tuple[str, str, str]]:
    conn = store.connect()
    try:
        rows = conn.execute(
            "SELECT image_id, source, label, origin FROM turing_truth WHERE study_id = ?", (study_id,)
        ).fetchall()
    finally:
        conn.close()
    return {r["image_id"]: (r["source"], r["label"], r["origin"]) for r in rows}


def test_per_class_counts_and_real_images_are_held_out(study, demo_dataset):
    s, raters = study
    truth = _truth(s.id)
    assert s.details["counts"] == {"real": {"mass": 3, "normal": 3}, "synthetic": {"mass": 3, "normal": 3}}
    splits = load_manifest(demo_dataset)["split"]
    real_rows = [int(origin.split("#")[1]) for source, _, origin in truth.values() if source == "real"]
    assert len(real_rows) == 6 and set(splits.iloc[real_rows]) <= {"test", "val"}
    assert [r.name for r in raters] == ["A", "B", "C"] and len({r.token for r in raters}) == 3


def test_all_images_share_size_and_mode(study):
    s, _ = study
    shapes = {decode_png(store.image_png(s.id, i)).shape for i in store.image_ids(s.id)}
    assert shapes == {(1, 64, 64)}


def test_synthetic_images_use_the_study_seed_in_every_class(study, fake_generator):
    # classes get their own streams in sample()
    assert fake_generator.calls == [(3, "mass", 7), (3, "normal", 7)]


def test_ids_reveal_nothing(demo_dataset, fake_generator):
    spec = StudySpec(
        name="big",
        dataset=demo_dataset.name,
        run_id="fake-run",
        n_real=10,
        n_synthetic=10,
        raters=["A"],
        per_class=True,
        seed=3,
    )
    s, _ = create_study(spec, generator=fake_generator)
    truth = _truth(s.id)
    for image_id, (_, label, origin) in truth.items():
        assert label not in image_id and origin not in image_id and len(image_id) >= 22
    conn = store.connect()
    try:
        stored = [
            r["id"]
            for r in conn.execute("SELECT id FROM turing_images WHERE study_id = ? ORDER BY rowid", (s.id,))
        ]
    finally:
        conn.close()
    for order in (stored, sorted(truth)):  # neither insertion order nor id order groups real vs synthetic
        sources = [truth[i][0] for i in order]
        runs = 1 + sum(a != b for a, b in zip(sources, sources[1:], strict=False))
        assert runs > 2
    again, _ = create_study(StudySpec(**{**spec.__dict__, "name": "big-again"}), generator=fake_generator)
    # same inputs, new ids: not derived from the source
    assert not set(store.image_ids(again.id)) & set(truth)


def test_mixed_study_spreads_synthetic_over_classes(demo_dataset, fake_generator):
    spec = StudySpec(
        name="mixed",
        dataset=demo_dataset.name,
        run_id="fake-run",
        n_real=4,
        n_synthetic=5,
        raters=["A"],
        seed=1,
    )
    s, _ = create_study(spec, generator=fake_generator)
    assert s.details["counts"]["synthetic"] == {"mass": 3, "normal": 2}
    assert sum(s.details["counts"]["real"].values()) == 4


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"n_real": 10_000}, "held-out"),
        ({"raters": ["A", "A"]}, "unique"),
        ({"raters": [" "]}, "at least one rater"),
        ({"n_real": 0, "n_synthetic": 0}, "positive number"),
        ({"name": "pilot"}, "already exists"),
    ],
)
def test_bad_requests_are_refused_with_a_reason(study, demo_dataset, fake_generator, change, message):
    base = {
        "name": "other",
        "dataset": demo_dataset.name,
        "run_id": "fake-run",
        "n_real": 2,
        "n_synthetic": 2,
        "raters": ["A"],
        "per_class": True,
        "seed": 0,
    }
    with pytest.raises(ValueError, match=message):
        create_study(StudySpec(**{**base, **change}), generator=fake_generator)


def test_unconditional_generator_cannot_do_per_class(demo_dataset, fake_generator):
    fake_generator.class_names, fake_generator.conditional = [], False
    spec = StudySpec(
        name="u",
        dataset=demo_dataset.name,
        run_id="fake-run",
        n_real=1,
        n_synthetic=1,
        raters=["A"],
        per_class=True,
    )
    with pytest.raises(ValueError, match="unconditional"):
        create_study(spec, generator=fake_generator)
    s, _ = create_study(StudySpec(**{**spec.__dict__, "per_class": False}), generator=fake_generator)
    assert s.details["counts"]["synthetic"] == {"-": 1}
    assert np.all([c[1] is None for c in fake_generator.calls])


def test_rater_link():
    assert rater_link("abc", "https://studio.example.org/") == "https://studio.example.org/?rater=abc"


def test_base_url_from_setting_then_env_then_the_servers_address(monkeypatch):
    import socket

    from medgan.settings import PUBLIC_BASE_URL, set_setting
    from medgan.turing.study import default_base_url, is_local_address

    monkeypatch.delenv("MEDGAN_BASE_URL", raising=False)
    assert default_base_url("http://10.1.2.3:8502/turing") == "http://10.1.2.3:8502"
    assert default_base_url("http://localhost:8765/turing") == f"http://{socket.getfqdn()}:8765"
    monkeypatch.setenv("MEDGAN_BASE_URL", "https://env.example.org")
    assert default_base_url("http://10.1.2.3:8502/") == "https://env.example.org"
    set_setting(PUBLIC_BASE_URL, "https://lab.example.org/studio")
    assert default_base_url("http://10.1.2.3:8502/") == "https://lab.example.org/studio"
    set_setting(PUBLIC_BASE_URL, "")
    assert default_base_url() == "https://env.example.org"
    assert [
        is_local_address(u)
        for u in (
            "http://localhost:8501",
            "http://127.0.1.1:80",
            "http://[::1]:8501",
            "http://0.0.0.0:8501",
            "https://lab.example.org",
        )
    ] == [True] * 4 + [False]
