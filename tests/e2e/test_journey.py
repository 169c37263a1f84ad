"""The whole journey in a real browser: data, training, gallery, Turing study with a rater, classifier, export.

Each step saves a screenshot under ``test-artifacts/e2e/``. Page load times, the rater's answer -> next image
latency, and the server's memory after 50 page views are written to ``test-artifacts/e2e/measurements.json``
and printed (reported, not asserted). Background jobs (training, export) are followed across a page reload.
"""

from __future__ import annotations

import json
import os
import time
import zipfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = {
    "home": "MedGAN Studio",
    "data": "Data",
    "train": "Train",
    "gallery": "Gallery",
    "turing": "Visual Turing test",
    "evaluate": "Evaluate",
    "embeddings": "Embeddings",
    "classifier": "Classifier comparison",
    "export": "Export a synthetic dataset",
}


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def _idle(page, timeout: float = 120_000) -> float:
    """Wait until Streamlit has finished running the script: no 'running' indicator in two looks 0.4 s apart.

    Returns the ``perf_counter`` time of the first of those quiet looks (when the page had settled).
    """
    status = page.locator("[data-testid='stStatusWidget']")
    quiet, settled_at = 0, time.perf_counter()
    while quiet < 2:
        if status.count():
            status.wait_for(state="detached", timeout=timeout)
            quiet = 0
        else:
            if quiet == 0:
                settled_at = time.perf_counter()
            quiet += 1
        page.wait_for_timeout(400)
    return settled_at


def _open(page, url: str, slug: str) -> float:
    """Open a page, wait for its title and for the script to finish; returns seconds taken."""
    start = time.perf_counter()
    page.goto(f"{url}/{'' if slug == 'home' else slug}")
    page.get_by_role("heading", name=PAGES[slug]).first.wait_for(timeout=120_000)
    return _idle(page) - start


def _fill_number(page, label: str, value: int) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Tab")  # commits the value; Enter would submit a form
    _idle(page)


def test_whole_journey(app_server, browser, shot, artifacts):
    url, timings = app_server["url"], {}
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)

    timings["home (first start, builds demo)"] = _open(page, url, "home")
    shot(page, "01-home")
    rss_first = _rss_mb(app_server["pid"])

    timings["data"] = _open(page, url, "data")
    page.get_by_text("PHANTOM made by code").first.wait_for()
    shot(page, "02-data")

    timings["train"] = _open(page, url, "train")
    _fill_number(page, "Steps", 150)
    page.get_by_role("button", name="Start training").click()
    page.get_by_text("Started run").wait_for(timeout=60_000)
    page.locator(".js-plotly-plot").first.wait_for(timeout=180_000)
    step_now = "() => +((document.body.innerText.match(/step (\\d+)\\/150/) || [0, -1])[1])"
    page.reload()  # the training job goes on without the page; the reloaded page finds and watches it
    page.locator(".js-plotly-plot").first.wait_for(timeout=180_000)
    first = page.evaluate(step_now)
    page.wait_for_function(f"n => ({step_now})() > n", arg=first, timeout=180_000)  # the live view moves on
    shot(page, "03-train-live")
    page.get_by_role(
        "button", name="Cancel"
    ).click()  # inside the live fragment; the run keeps its checkpoint
    page.get_by_text("cancelled: step").wait_for(timeout=180_000)

    timings["gallery"] = _open(page, url, "gallery")
    page.locator("[data-testid='stImage']").first.wait_for(timeout=120_000)
    shot(page, "04-gallery")

    timings["turing"] = _open(page, url, "turing")
    page.get_by_label("Study name").fill("e2e study")
    _fill_number(page, "Real images", 3)
    _fill_number(page, "Synthetic images", 3)
    page.get_by_role("button", name="Create study").click()
    page.get_by_text("created with").wait_for(timeout=120_000)
    shot(page, "05-turing-created")

    os.environ["MEDGAN_HOME"] = str(app_server["home"])
    from medgan.turing import store

    study = store.get_study("e2e study")
    token = store.list_raters(study.id)[0].token
    rater_context = browser.new_context(viewport={"width": 1200, "height": 900})
    rater = rater_context.new_page()
    start = time.perf_counter()
    rater.goto(f"{url}/?rater={token}")
    rater.locator("img.rate-image").wait_for(timeout=60_000)
    timings["rater first screen"] = time.perf_counter() - start
    _idle(rater)
    assert rater.locator("[data-testid='stSidebarNav']").count() == 0
    next_image = []
    for n, answer in enumerate(["Real", "Synthetic", "Real", "Synthetic", "Real", "Real"], start=1):
        radios = rater.locator("[data-testid='stRadio']")
        radios.nth(0).get_by_text(answer, exact=True).click()
        radios.nth(1).get_by_text("4", exact=True).click()
        shown = rater.evaluate("document.querySelector('img.rate-image').src")
        start = time.perf_counter()
        rater.get_by_role("button", name="Save and show next").click()
        rater.wait_for_function(
            "s => { const i = document.querySelector('img.rate-image'); return i && i.src !== s }",
            arg=shown,
            timeout=60_000,
            polling=20,
        )
        next_image.append(time.perf_counter() - start)
        rater.get_by_text(f"{n} of ").wait_for(timeout=60_000)
        _idle(rater)
    shot(rater, "06-rater")
    rater_context.close()

    _open(page, url, "turing")
    page.get_by_role("tab", name="Studies, raters and results").click()
    page.get_by_text("Results (6 ratings)").wait_for(timeout=60_000)
    shot(page, "07-turing-results")

    timings["evaluate"] = _open(page, url, "evaluate")
    shot(page, "08-evaluate")
    timings["embeddings"] = _open(page, url, "embeddings")
    shot(page, "09-embeddings")

    timings["classifier"] = _open(page, url, "classifier")
    _fill_number(page, "Folds", 2)
    _fill_number(page, "Synthetic (and augmented) images per class", 20)
    _fill_number(page, "Maximum epochs (early stopping on validation loss)", 1)
    page.get_by_role("button", name="Start comparison").click()
    page.get_by_text("McNemar").first.wait_for(timeout=420_000)
    shot(page, "10-classifier")

    timings["export"] = _open(page, url, "export")
    _fill_number(page, "Images", 4)
    page.get_by_role("button", name="Export", exact=True).click()
    page.get_by_text("queued", exact=False).or_(page.get_by_text("wrote ")).first.wait_for(timeout=60_000)
    page.reload()  # the export job survives the reload; the reloaded page shows its result
    page.get_by_text("wrote ").wait_for(timeout=120_000)
    # A deferred download's id is renewed by every script run; a click that still holds the id of a run
    # that is being replaced is dropped by Streamlit, so click once the page has settled (as a user would).
    _idle(page)
    with page.expect_download(timeout=120_000) as download_info:
        page.get_by_role("button", name="Download").first.click()
    zip_path = artifacts / "export.zip"
    download_info.value.save_as(zip_path)
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        assert "manifest.csv" in names and "DATASHEET.md" in names
        assert sum(n.endswith(".png") for n in names) == 8  # 4 per class, 2 classes
    shot(page, "11-export")

    slugs = list(PAGES)
    for slug in slugs:  # every page once, so one-time imports (torch, plotly) are in the baseline
        _open(page, url, slug)
    rss_warm = _rss_mb(app_server["pid"])
    for i in range(50):
        _open(page, url, slugs[i % len(slugs)])
    rss_after = _rss_mb(app_server["pid"])
    ordered = sorted(next_image)
    measurements = {
        "page_load_seconds": {k: round(v, 2) for k, v in timings.items()},
        "rater_answer_to_next_image_ms": {
            "n": len(ordered),
            "median": round(1000 * ordered[len(ordered) // 2]),
            "max": round(1000 * ordered[-1]),
            "all": [round(1000 * t) for t in next_image],
        },
        "server_rss_mb_first_load": round(rss_first, 1),
        "server_rss_mb_after_journey_and_one_view_of_each_page": round(rss_warm, 1),
        "server_rss_mb_after_50_more_views": round(rss_after, 1),
    }
    (artifacts / "measurements.json").write_text(json.dumps(measurements, indent=2))
    print(json.dumps(measurements, indent=2))
