"""The list page shows a list as it was published: its order, its row numbers, its links.

A second edition of the nationwide list moves a row to the top and inserts one, so every row
number below shifts; since row numbers never count as a change, most rows keep the version
(and the No.) they were first published with, and only the stored order of each snapshot
tells the page how the list read. A third run fails. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from monitor.demo.site import Route, running_site
from monitor.runtime.check import open_store, run_check
from tests.conftest import NATIONWIDE, fresh_database, make_config, seed_text, source_entry
from tests.versions import derive, insert_row, move_row, split_rows
from tests.web.conftest import T0, WebDB, app_for, clock, serving

NO, NAME = 0, 4
NEW_ROW = ["", "総務局", "行政", "新規", "新しい連携事業（試行：令和8年度）", "全国", "", "試行する。", "https://example.org/new"]


def _renumber(rows: list[list[str]]) -> None:
    number = 0
    for cells in rows:
        if len(cells) > NAME and (cells[NO].isdigit() or cells[NO] == ""):
            number += 1
            cells[NO] = str(number)


V1 = seed_text(NATIONWIDE)
V2 = derive(V1, move_row(NAME, "産業交流展", NO, "1"), insert_row(NO, "2", NEW_ROW), _renumber)


def _published(text: str) -> list[tuple[str, str]]:
    return [(cells[NO], cells[NAME]) for cells in split_rows(text) if len(cells) > NAME and cells[NO].isdigit()]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def published(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    with fresh_database(request.param, tmp_path_factory.mktemp("published"), prefix="sesaku_pub") as url, running_site() as site:
        config = make_config(url, source_entry("nationwide", site.url("/nationwide.txt")))
        sessions = open_store(config)
        for day, route in enumerate([Route(V1.encode()), Route(V2.encode()), Route(b"oops", status=500)]):
            site.publish("/nationwide.txt", route)
            run_check(config, sessions, clock=clock(T0 + timedelta(days=day)))
        db = WebDB(url, config, sessions, 0, 0, 0, 0, 0, T0 + timedelta(days=3))
        with serving(app_for(db, page_size=500)) as base, httpx.Client(base_url=base, timeout=30) as client:
            yield client
        sessions.kw["bind"].dispose()


def _rows(html: str) -> list[tuple[str, str]]:
    """(No., name) of each row of the list table, as the page shows them."""
    table = html.split('<table class="list">')[1].split("</table>")[0]
    return [(number, name) for number, name in re.findall(
        r'<tr><td class="number">.*?</td>\s*<td class="number">([^<]*)</td>.*?<a class="name" href="/measures/\d+">([^<]*)</a>', table, re.S)]


def test_the_list_reads_in_published_order_with_the_row_numbers_of_that_day(published):
    now, first_day = published.get("/sources/nationwide").text, published.get("/sources/nationwide", params={"as_of": "2026-04-01"}).text
    assert _rows(now) == _published(V2)
    assert _rows(now)[:4] == [("1", "産業交流展"), ("2", _published(V1)[0][1]), ("3", _published(V1)[1][1]), ("4", NEW_ROW[NAME])]
    assert [n for n, _ in _rows(now)] == [str(i) for i in range(1, len(_published(V2)) + 1)]  # no No. twice
    assert _rows(first_day) == _published(V1)


def test_every_name_links_to_its_measure_and_only_http_urls_are_links(published):
    html = published.get("/sources/nationwide").text
    assert re.search(r'<a class="name" href="/measures/\d+">新しい連携事業（試行：令和8年度）</a>', html)
    assert '<a href="https://example.org/new" rel="noopener noreferrer nofollow">https://example.org/new</a>' in html
    assert '<th class="number">No.</th>' in html and '<td class="long">' in html


def test_a_day_before_monitoring_says_so_and_names_the_first_day(published):
    html = published.get("/sources/nationwide", params={"as_of": "2026-03-01"}).text
    assert "この日付は監視開始前です（最初の取得は 2026-04-01）。" in html and "ありません" not in html.split("<h2>")[1]
    assert 'href="/sources/nationwide?as_of=2026-04-01"' in html


def test_a_failed_list_is_marked_on_the_overview(published):
    row = re.search(r'<tr class="status-(\w+)">\s*<td><a href="/sources/nationwide"', published.get("/").text)
    assert row is not None and row.group(1) == "failed"


def test_the_download_holds_the_same_rows_in_the_same_order(published):
    csv = published.get("/sources/nationwide.csv").content.decode("utf-8-sig").splitlines()
    header = csv[0].split(",")
    assert header[:2] == ["measure_id", "No."]
    assert [line.split(",")[1] for line in csv[1:]] == [n for n, _ in _published(V2)]
