"""Snapshot metadata: the edition and as-of date stored with every good snapshot, and the
``edition_changed`` event. Runs on SQLite and on PostgreSQL (the ``database_url`` fixture)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import select

from monitor.runtime.check import open_store, run_check
from monitor.lists.editions import date_of_http_date
from monitor.lists.parsers import Document, parse_document
from monitor.demo.site import Route
from store.database import transaction
from store.models import Event, Snapshot
from tests.conftest import NATIONWIDE, TAMA, make_config, seed_text, source_entry
from tests.lists.documents import DOCUMENTS, publish_file
from tests.runtime.test_check import clock, publish

R5 = seed_text(NATIONWIDE).replace("令和4年度 全国各地との連携事業一覧(令和4年4月1日時点)", "令和5年度 全国各地との連携事業一覧(令和5年4月1日時点)")


def snapshots(sessions) -> list[tuple[str, str | None, date | None]]:
    with transaction(sessions) as session:
        return [(s.status, s.edition, s.as_of) for s in session.scalars(select(Snapshot).order_by(Snapshot.id))]


def test_a_new_edition_is_one_event_and_every_good_snapshot_carries_its_edition(site, database_url):
    publish(site, "/nationwide.txt", seed_text(NATIONWIDE))
    config = make_config(database_url, source_entry("nationwide", site.url("/nationwide.txt")))
    sessions = open_store(config)
    tick = clock()
    reports = [run_check(config, sessions, clock=tick).sources[0] for _ in range(2)]
    site.publish("/nationwide.txt", Route(seed_text(NATIONWIDE).encode("utf-8"), etag=False))
    reports.append(run_check(config, sessions, clock=tick).sources[0])
    publish(site, "/nationwide.txt", R5)
    reports.append(run_check(config, sessions, clock=tick).sources[0])
    assert [(r.status, r.edition) for r in reports] == [
        ("baseline", "令和4年4月1日時点"), ("not_modified", "令和4年4月1日時点"),
        ("unchanged", "令和4年4月1日時点"), ("unchanged", "令和5年4月1日時点"),
    ]
    r4, r5 = date(2022, 4, 1), date(2023, 4, 1)
    assert snapshots(sessions) == [("baseline", "令和4年4月1日時点", r4), ("not_modified", "令和4年4月1日時点", r4),
                                   ("unchanged", "令和4年4月1日時点", r4), ("unchanged", "令和5年4月1日時点", r5)]
    with transaction(sessions) as session:
        (event,) = session.scalars(select(Event)).all()
    assert (event.kind, event.source_id) == ("edition_changed", "nationwide")
    assert event.payload == {"old_edition": "令和4年4月1日時点", "new_edition": "令和5年4月1日時点", "as_of": "2023-04-01"}


def test_a_suspect_version_in_between_does_not_hide_the_edition_change(site, database_url):
    publish(site, "/nationwide.txt", seed_text(NATIONWIDE))
    config = make_config(database_url, source_entry("nationwide", site.url("/nationwide.txt")))
    sessions = open_store(config)
    tick = clock()
    run_check(config, sessions, clock=tick)
    publish(site, "/nationwide.txt", "<!DOCTYPE html><html><body>メンテナンス中</body></html>")
    assert run_check(config, sessions, clock=tick).sources[0].status == "suspect"
    publish(site, "/nationwide.txt", R5)
    run_check(config, sessions, clock=tick)
    with transaction(sessions) as session:
        kinds = session.scalars(select(Event.kind).order_by(Event.id)).all()
    assert kinds == ["source_suspect", "edition_changed", "source_recovered"]


def test_the_pdf_edition_and_a_last_modified_fallback_for_the_as_of_date(site, database_url):
    publish_file(site, "/nationwide.pdf", DOCUMENTS / "tokyo-nationwide-collaboration-r4.pdf")
    site.publish("/tama.txt", Route(seed_text(TAMA).encode("utf-8"), headers={"Last-Modified": "Tue, 31 Mar 2026 16:30:00 GMT"}))
    config = make_config(database_url, source_entry("nationwide", site.url("/nationwide.pdf"), format="auto"),
                         source_entry("tama", site.url("/tama.txt")))
    sessions = open_store(config)
    nationwide, tama = run_check(config, sessions, clock=clock()).sources
    assert (nationwide.edition, tama.edition) == ("令和4年4月1日時点", None)
    # Tama's list names no date: the day the server says the file was written, in Tokyo.
    assert [row[2] for row in snapshots(sessions)] == [date(2022, 4, 1), date(2026, 4, 1)]


def test_http_dates_are_read_in_the_configured_time_zone():
    tokyo = ZoneInfo("Asia/Tokyo")
    assert date_of_http_date("Tue, 31 Mar 2026 16:30:00 GMT", tokyo) == date(2026, 4, 1)
    assert date_of_http_date("Tue, 31 Mar 2026 14:30:00 GMT", tokyo) == date(2026, 3, 31)
    assert date_of_http_date("not a date", tokyo) is None and date_of_http_date(None, tokyo) is None


HTML_EDITIONS = yaml.safe_load((Path(__file__).parent / "cases" / "html_editions.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", HTML_EDITIONS, ids=[case["name"] for case in HTML_EDITIONS])
def test_an_html_list_reads_its_edition_from_the_heading(case):
    caption = f"<caption>{case['caption']}</caption>" if case.get("caption") else ""
    page = (f"<html><head><title>{case['title']}</title></head><body>{case['before']}<table>{caption}"
            "<tr><th>事業名</th><th>所管局</th></tr><tr><td>水素ステーション整備</td><td>環境局</td></tr></table></body></html>")
    parsed = parse_document(Document(page.encode("utf-8"), "https://example.lg.jp/list.html", "text/html; charset=utf-8"), "html-table")
    assert (parsed.edition or None, parsed.as_of) == (case["edition"], case["as_of"])
