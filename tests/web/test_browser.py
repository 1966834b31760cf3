"""A real browser (Debian's chromium, headless, driven by Playwright) clicks through the view.

Open /, follow a change to its measure page and see the highlighted field, open a dead link
and see its chart; no script from a list ever runs (a dialog would fail the test). A
screenshot is saved under the test's temporary directory; with SESAKU_README_SCREENSHOT set
(e.g. docs/screenshot.png) the overview is saved there too, for the README.

Then what a reader sees (issue 18 items 5 and 8): the list in published order with every name
a link, ids, phone numbers and headers on one line each (counted as the line boxes of their
text), /links dead first, and an HTML digest whose old and new sit side by side on a wide
screen and one above the other at phone width. Screenshots of the source page, /links,
/changes, /ending, a comparison and the digest (wide and phone) go to SESAKU_BROWSER_SHOTS
(a folder), or the test's temporary directory, to be looked at.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.web.conftest import app_for, serving

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.fixture
def browser_page(tmp_path: Path):
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs it")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, args=FLAGS, headless=True, viewport={"width": 1200, "height": 900},
        )
        page = context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        yield page, dialogs
        context.close()


def test_browser_follows_a_change_to_its_measure_and_a_dead_link_to_its_chart(sqlite_db, browser_page, tmp_path):
    page, dialogs = browser_page
    with serving(app_for(sqlite_db)) as base:
        page.goto(base + "/")
        assert page.locator("h1").first.inner_text() == "監視中の一覧"
        if os.environ.get("SESAKU_README_SCREENSHOT"):
            page.screenshot(path=os.environ["SESAKU_README_SCREENSHOT"])
        page.get_by_role("link", name="変更: 多摩ニュータウン地域再生検討").click()
        page.wait_for_url(f"**/measures/{sqlite_db.long_measure}")
        changed = page.locator("tr.changed").first
        assert changed.is_visible() and "施策概要" in changed.inner_text()
        assert changed.locator("ins").first.inner_text() == "詳細な"
        assert changed.evaluate("row => getComputedStyle(row.querySelector('td')).backgroundColor") != "rgba(0, 0, 0, 0)"
        page.screenshot(path=str(tmp_path / "measure.png"), full_page=True)

        page.get_by_role("link", name="リンク", exact=True).click()
        page.get_by_role("link", name="リンク切れ", exact=True).click()
        page.get_by_role("link", name="https://tama120.metro.tokyo.lg.jp/").click()
        page.wait_for_url(f"**/links/{sqlite_db.dead_link}")
        chart = page.locator("svg.chart")
        assert chart.is_visible() and chart.bounding_box()["height"] > 100
        assert chart.locator("rect.check").count() == 30
        page.screenshot(path=str(tmp_path / "link.png"), full_page=True)

        page.goto(base + f"/measures/{sqlite_db.xss_measure}")
        assert page.locator("h1").inner_text() == "<script>alert(1)</script>"
    assert dialogs == []
    assert (tmp_path / "measure.png").stat().st_size > 10_000 and (tmp_path / "link.png").stat().st_size > 10_000


# One line box per element: Range.getClientRects gives a rectangle per line a text runs over.
LINES = "el => { const r = document.createRange(); r.selectNodeContents(el); return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; }"
SHOTS = ("source", "links", "changes", "ending", "compare", "digest", "digest-phone")


def _lines(page, selector: str) -> list[int]:
    return [cell.evaluate(LINES) for cell in page.locator(selector).all()]


def _shoot(page, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _digest_file(folder: Path) -> Path:
    from notifiers.digest import build_digest
    from notifiers.render import render
    from tests.notifiers.samples import NOW, all_kinds, counted_events
    from tests.notifiers.test_digest_readable import CHANGED, ENDED
    from tests.notifiers.samples import event
    events = [event(101, "ended", ENDED, measure_id=4), event(102, "changed", CHANGED, measure_id=5), *all_kinds(), *counted_events()]
    path = folder / "digest.html"
    path.write_text(render(build_digest("team", events, now=NOW, base_url="https://monitor.example.jp")).html, encoding="utf-8")
    return path


def test_browser_reads_the_list_as_published_and_every_page_without_broken_words(sqlite_db, browser_page, tmp_path):
    page, dialogs = browser_page
    shots = Path(os.environ.get("SESAKU_BROWSER_SHOTS") or tmp_path)
    with serving(app_for(sqlite_db)) as base:
        page.goto(base + "/sources/tama")
        rows = page.locator("table.list tbody tr")
        assert rows.count() == 44 and page.locator("table.list a.name").count() == 44  # every name a link, （）： too
        assert page.get_by_role("link", name="多摩の魅力発信プロジェクト（旧：多摩PR事業）").count() == 1
        assert rows.first.locator("a.name").inner_text() == "地域を主体とするスマート東京先進事例創出事業"  # the list's first row
        assert set(_lines(page, "table.list td.number")) == {1} and page.locator("table.list td.phone").count() == 44
        assert set(_lines(page, "table.list .tel")) == {1} and page.locator("table.list .tel").count() >= 40
        assert set(_lines(page, "table.list th")) == {1}
        widths = [cell.bounding_box()["width"] for cell in page.locator("table.list thead th").all()]
        assert min(widths) > 40 and page.locator("table.list td.url a").count() >= 20
        _shoot(page, shots, "source")

        page.goto(base + "/links")
        assert page.locator("table.links tbody tr").first.locator(".state").inner_text() == "リンク切れ"
        assert set(_lines(page, "table.links .state")) == {1}
        _shoot(page, shots, "links")
        page.goto(base + "/changes")
        assert page.locator("ul.fields del").first.is_visible() and page.locator("ul.fields ins").first.is_visible()
        _shoot(page, shots, "changes")
        page.goto(base + "/ending?days=3650")
        _shoot(page, shots, "ending")
        page.goto(base + "/sources/tama/compare?from=2026-04-01&to=2026-04-03")
        assert page.locator("table.compare").count() == 4
        _shoot(page, shots, "compare")

    page.goto(_digest_file(tmp_path).as_uri())
    old, new = page.locator("td.side.old").first.bounding_box(), page.locator("td.side.new").first.bounding_box()
    assert old["y"] == new["y"] and new["x"] > old["x"]  # side by side on a wide screen
    _shoot(page, shots, "digest")
    page.set_viewport_size({"width": 390, "height": 844})
    old, new = page.locator("td.side.old").first.bounding_box(), page.locator("td.side.new").first.bounding_box()
    assert new["y"] >= old["y"] + old["height"] - 1 and abs(new["x"] - old["x"]) < 2  # one above the other on a phone
    _shoot(page, shots, "digest-phone")
    assert dialogs == []
    assert all((shots / f"{name}.png").stat().st_size > 10_000 for name in SHOTS)


def test_browser_english_headers_keep_their_words(sqlite_db, browser_page):
    page, _ = browser_page
    with serving(app_for(sqlite_db, language="en")) as base:
        page.goto(base + "/")
        assert page.get_by_role("columnheader", name="Records").evaluate(LINES) == 1
        page.goto(base + "/sources/tama")
        assert set(_lines(page, "table.list th")) == {1}
