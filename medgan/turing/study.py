"""Creating a visual Turing study: pick held-out real images, sample synthetic ones, hand out rater tokens.

Real images come from the dataset's held-out splits (test, then val), never from the images the generator
was trained on, at the generator's resolution so image size does not give the answer away. Synthetic images
come from ``load_generator(run).sample`` with the study seed, by the seed scheme of :mod:`medgan.sampling`. Everything is stored in one transaction under
opaque ids, inserted in a shuffled order.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import numpy as np

from medgan import audit
from medgan.data.imageops import to_grayscale
from medgan.data.store import get_dataset, load_images
from medgan.sampling import sample_counts, split_counts
from medgan.turing import store
from medgan.turing.blinding import SERVED_BYTES_NOTE, encode_png, new_image_id, new_rater_token

HELD_OUT_SPLITS = ("test", "val")
BASE_URL_ENV = "MEDGAN_BASE_URL"
DEFAULT_BASE_URL = "http://localhost:8501"


class Generator(Protocol):
    """What a study needs of ``medgan.generate.LoadedGenerator``."""

    run_id: str
    resolution: int
    channels: int
    class_names: list[str]
    dataset: str
    checkpoint_sha256: str

    def sample(self, n: int, *, label: str | None = None, seed: int = 0) -> np.ndarray: ...


@dataclass(frozen=True)
class StudySpec:
    """What the owner asks for. With ``per_class``, ``n_real`` and ``n_synthetic`` are per class."""

    name: str
    dataset: str
    run_id: str
    n_real: int
    n_synthetic: int
    raters: list[str]
    per_class: bool = False
    seed: int = 0


@dataclass
class _Item:
    pixels: np.ndarray
    source: str
    label: str
    origin: str


def default_base_url(server_url: str | None = None) -> str:
    """Address of the app for rater links, first found of: the workspace setting, ``MEDGAN_BASE_URL``, the
    address this server was reached at (``server_url``; when that is local, this machine's host name with
    its port), ``http://localhost:8501``."""
    from medgan.settings import PUBLIC_BASE_URL, get_setting

    configured = get_setting(PUBLIC_BASE_URL) or os.environ.get(BASE_URL_ENV)
    if configured:
        return configured
    if not server_url:
        return DEFAULT_BASE_URL
    parts = urlsplit(server_url)
    if is_local_address(server_url):
        return f"{parts.scheme}://{socket.getfqdn()}" + (f":{parts.port}" if parts.port else "")
    return f"{parts.scheme}://{parts.netloc}"


def is_local_address(url: str) -> bool:
    """True when ``url``'s host only reaches this machine (localhost, 127.x, ::1, 0.0.0.0): a colleague's
    browser cannot open such a link."""
    host = (urlsplit(url).hostname or "").lower()
    return (
        host in ("localhost", "::1", "0.0.0.0", "") or host.startswith("127.") or host.endswith(".localhost")
    )


def rater_link(token: str, base_url: str | None = None) -> str:
    """The link a rater opens: ``BASE/?rater=TOKEN`` (base: :func:`default_base_url` when not given)."""
    return f"{(base_url or default_base_url()).rstrip('/')}/?rater={token}"


def _validate(spec: StudySpec) -> list[str]:
    names = [n.strip() for n in spec.raters if n.strip()]
    if not spec.name.strip():
        raise ValueError("the study needs a name")
    if not names:
        raise ValueError("the study needs at least one rater name")
    if len(set(names)) != len(names):
        raise ValueError(f"rater names must be unique: {', '.join(names)}")
    if spec.n_real < 0 or spec.n_synthetic < 0 or spec.n_real + spec.n_synthetic == 0:
        raise ValueError("ask for a positive number of real and/or synthetic images")
    try:
        store.get_study(spec.name.strip())
    except store.StudyNotFound:
        return names
    raise ValueError(f"a Turing study named {spec.name.strip()!r} already exists; choose another name")


def match_channels(images: np.ndarray, channels: int, dataset: str) -> np.ndarray:
    """Real images with the generator's channel count (RGB -> grey when it makes grey images)."""
    if images.shape[1] == channels:
        return images
    if channels == 1:
        return np.stack([to_grayscale(im) for im in images]) if len(images) else images[:, :1]
    raise ValueError(
        f"dataset {dataset!r} has {images.shape[1]} channel(s) but the generator makes {channels}"
    )


def _real_items(spec: StudySpec, classes: list[str], gen: Generator, rng: np.random.Generator) -> list[_Item]:
    info = get_dataset(spec.dataset)
    held = load_images(info, resolution=gen.resolution, split=list(HELD_OUT_SPLITS))
    wanted = [(c, spec.n_real) for c in classes] if spec.per_class else [(None, spec.n_real)]
    items = []
    for label, n in wanted:
        rows = np.flatnonzero(held.labels == label) if label is not None else np.arange(len(held))
        if n > len(rows):
            where = f" of class {label!r}" if label is not None else ""
            raise ValueError(
                f"dataset {spec.dataset!r} has only {len(rows)} held-out (test/val) images{where}; "
                f"asked for {n}"
            )
        chosen = np.sort(rng.choice(rows, size=n, replace=False))
        pixels = match_channels(np.asarray(held.images[chosen]), gen.channels, spec.dataset)
        items += [
            _Item(p, "real", str(held.labels[r]), f"{spec.dataset}#{int(held.indices[r])}")
            for p, r in zip(pixels, chosen, strict=True)
        ]
    return items


def _synthetic_counts(spec: StudySpec, gen: Generator) -> dict[str, int]:
    """Synthetic images per class: ``n_synthetic`` each with ``per_class``, else in the dataset's class
    proportions (the mix the held-out real images have), so the class mix does not give the answer away."""
    classes = list(gen.class_names)  # conditional and one-network-per-class runs both name their classes
    if not classes:
        if spec.per_class:
            raise ValueError(f"generator {gen.run_id!r} is unconditional: it cannot make images per class")
        return {"": spec.n_synthetic}
    if spec.per_class:
        return {c: spec.n_synthetic for c in classes}
    return split_counts(spec.n_synthetic, classes, get_dataset(spec.dataset).classes)


def _synthetic_items(spec: StudySpec, gen: Generator) -> list[_Item]:
    images, labels = sample_counts(gen, _synthetic_counts(spec, gen), seed=spec.seed)  # the one seed scheme
    index = {label: 0 for label in labels}
    items = []
    for image, label in zip(images, labels, strict=True):
        origin = f"{gen.run_id}:{label or 'all'}:seed={spec.seed}:{index[label]}"
        items.append(_Item(image, "synthetic", label, origin))
        index[label] += 1
    return items


def _study_classes(spec: StudySpec, gen: Generator) -> list[str]:
    if not spec.per_class:
        return []
    dataset_classes = sorted(get_dataset(spec.dataset).classes)
    if set(gen.class_names) - set(dataset_classes):
        raise ValueError(
            f"generator classes {gen.class_names} are not all in dataset {spec.dataset!r} ({dataset_classes})"
        )
    return list(gen.class_names) or dataset_classes


def create_study(
    spec: StudySpec, generator: Generator | None = None
) -> tuple[store.Study, list[store.Rater]]:
    """Create and store a study; returns it with its raters (each with a fresh token).

    ``generator`` defaults to ``medgan.generate.load_generator(spec.run_id)``.
    """
    names = _validate(spec)
    if generator is None:
        from medgan.generate import load_generator

        generator = load_generator(spec.run_id)
    rng = np.random.default_rng(spec.seed)
    items = _real_items(spec, _study_classes(spec, generator), generator, rng) + _synthetic_items(
        spec, generator
    )
    items = [items[i] for i in np.random.default_rng(secrets.randbits(64)).permutation(len(items))]
    details = _details(spec, generator, items)
    study_id = secrets.token_hex(8)
    stack = get_dataset(spec.dataset).stack  # 2.5D: a stack is shown as its grey middle slice
    pngs = [encode_png(item.pixels, stack) for item in items]  # before the transaction, which stays short
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO turing_studies (id, name, dataset, run_id, n_real, n_synthetic, per_class, seed,"
            " created, details) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                study_id,
                spec.name.strip(),
                spec.dataset,
                spec.run_id,
                spec.n_real,
                spec.n_synthetic,
                int(spec.per_class),
                spec.seed,
                store.now(),
                json.dumps(details, sort_keys=True),
            ),
        )
        for name in names:
            conn.execute(
                "INSERT INTO turing_raters (token, study_id, name, created) VALUES (?,?,?,?)",
                (new_rater_token(), study_id, name, store.now()),
            )
        for item, png in zip(items, pngs, strict=True):
            image_id = new_image_id()
            conn.execute(
                "INSERT INTO turing_images (id, study_id, png) VALUES (?,?,?)", (image_id, study_id, png)
            )
            conn.execute(
                "INSERT INTO turing_truth (image_id, study_id, source, label, origin) VALUES (?,?,?,?,?)",
                (image_id, study_id, item.source, item.label, item.origin),
            )
    audit.record(
        "create Turing study",
        f"study:{study_id}",
        name=spec.name.strip(),
        run=spec.run_id,
        dataset=spec.dataset,
        n_images=len(items),
        raters=names,
    )
    return store.get_study(study_id), store.list_raters(study_id)


def _details(spec: StudySpec, gen: Generator, items: list[_Item]) -> dict[str, Any]:
    counts: dict[str, dict[str, int]] = {"real": {}, "synthetic": {}}
    for item in items:
        counts[item.source][item.label or "-"] = counts[item.source].get(item.label or "-", 0) + 1
    return {
        "counts": counts,
        "resolution": gen.resolution,
        "channels": gen.channels,
        "generator_dataset": gen.dataset,
        "checkpoint_sha256": gen.checkpoint_sha256,
        "held_out_splits": list(HELD_OUT_SPLITS),
        "served_bytes": SERVED_BYTES_NOTE,
    }
