"""A real browser (Debian's chromium, headless, driven by Playwright) clicks through the view.

Open /, follow a change to its measure page and see the highlighted field, open a dead link
and see its chart; no script from a list ever runs (a dialog would fail the test). A
screenshot is saved under the test's temporary directory; with SESAKU_README_SCREENSHOT set
(e.g. docs/screenshot.png) the overview is saved there too, for the README.
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
