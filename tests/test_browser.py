"""The report in a real browser: Debian's Chromium driven by Playwright.

Skipped, with one reason, where Chromium or Playwright is missing (``make test`` installs
Playwright, ``.ci/run`` also Chromium and sets TOPICNMF_REQUIRE_BROWSER, which turns the skip
into a failure). The page is opened from file:// with every request that is not
the page itself aborted and recorded: a self-contained report makes none.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import SAMPLES
from topicnmf.cli import cli

CHROMIUM = os.environ.get("TOPICNMF_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def _missing() -> str | None:
    if not os.path.exists(CHROMIUM):
        return "Chromium is not installed (apt-get install chromium; make test installs Playwright)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[browser]')"
    return None


MISSING = _missing()
if MISSING and os.environ.get("TOPICNMF_REQUIRE_BROWSER"):
    # CI installs both: there a missing browser is a failure, not a skip
    raise RuntimeError(f"TOPICNMF_REQUIRE_BROWSER is set but {MISSING}")
pytestmark = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")

HOBBIES = SAMPLES / "hobbies"


def ok(args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, (args, result.stderr, result.exception)
    return result.stdout


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("browser")
    model = tmp / "m.npz"
    ok(["fit", HOBBIES, "-k", 4, "-m", model, "-q", "--format", "csv", "--save-doc-topics"])
    ok(["label", "-m", model, "1=Ball games", "3=Night sky", "-q"])
    ok(["select-k", HOBBIES, "--k", "2,3,4", "--runs", 0, "-o", tmp / "k.json", "-q"])
    page = tmp / "report.html"
    ok(["report", "-m", model, HOBBIES, "-o", page, "--select-k", tmp / "k.json", "-q"])
    return {
        "path": page,
        "tmp": tmp,
        "topics": json.loads(ok(["topics", model, "--format", "json"])),
        "docs": json.loads(ok(["docs", "-m", model, HOBBIES, "--format", "json", "-q"])),
    }


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def open_page(browser, path: Path, **context):
    page = browser.new_context(viewport={"width": 1200, "height": 900}, **context).new_page()
    problems: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    url = path.as_uri()

    def route(r):
        if r.request.url == url:
            r.continue_()
        else:
            requests.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(url)
    return page, problems, requests


def test_the_report_works_offline_in_chromium(browser, report):
    page, problems, requests = open_page(browser, report["path"])
    topics = report["topics"]
    k = len(topics)
    assert page.locator("#topic-map .mark").count() == k
    rows = page.locator("#topic-table tbody tr")
    assert rows.count() == k
    assert [rows.nth(t).locator("td.label").inner_text() for t in range(k)] == [
        t["label"] for t in topics
    ]
    assert "Night sky" in page.locator("#topic-table").inner_text()

    # clicking a topic on the map shows its terms and documents
    page.locator('#topic-map .mark[data-topic="2"]').click()
    assert page.locator("#detail-title").inner_text() == f"Topic 2: {topics[2]['label']}"
    terms = page.locator("#term-bars").get_attribute("data-terms").split(",")
    assert len(terms) == 20 and set(t["term"] for t in topics[2]["terms"][:3]) <= set(terms)
    shown = page.locator("#doc-list .doc-id").all_inner_texts()
    assert shown == [d["id"] for d in report["docs"] if d["topic"] == 2]
    assert page.locator('#topic-table tr[aria-current="true"]').get_attribute("data-topic") == "2"

    # the relevance slider re-ranks the terms
    page.locator("#lambda").fill("0")
    assert page.locator("#lambda-value").inner_text() == "0.00"
    low = page.locator("#term-bars").get_attribute("data-terms").split(",")
    page.locator("#lambda").fill("1")
    high = page.locator("#term-bars").get_attribute("data-terms").split(",")
    assert low != terms and high != low

    # the k selection is drawn with its recommended k
    assert "k = " in page.locator("#select-k").inner_text()

    shot = report["tmp"] / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"screenshot: {shot}")
    assert requests == [] and problems == []


def test_keyboard_selects_topics(browser, report):
    page, problems, _ = open_page(browser, report["path"])
    page.locator('#topic-table button.pick[data-topic="3"]').focus()
    page.keyboard.press("Enter")
    assert page.locator("#detail-title").inner_text().startswith("Topic 3: Night sky")
    page.locator('#topic-map .mark[data-topic="1"]').focus()
    assert not page.locator("#tooltip").is_hidden()  # focus shows what hover shows
    page.keyboard.press("Enter")
    assert page.locator("#detail-title").inner_text() == "Topic 1: Ball games"
    assert problems == []


def test_first_paint_dark_scheme_and_print(browser, report):
    page, problems, _ = open_page(browser, report["path"], color_scheme="dark")
    # paint entries are recorded once the frame is presented, a moment after load
    page.wait_for_function(
        "() => performance.getEntriesByName('first-contentful-paint').length > 0",
        timeout=5000,
    )
    paint = page.evaluate(
        "() => performance.getEntriesByType('paint').map(e => [e.name, e.startTime])"
    )
    first = dict(paint).get("first-contentful-paint")
    assert first is not None and first < 1000, paint
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert background != "rgb(255, 255, 255)"
    page.emulate_media(media="print")
    assert page.locator(".slider").is_hidden() and page.locator("#topic-table").is_visible()
    assert problems == []
