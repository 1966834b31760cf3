"""Paginated HTML lists through the pipeline: pages merged into one version, a missing page suspect.

Runs on SQLite and on PostgreSQL (the ``database_url`` fixture)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from monitor.runtime.check import open_store, run_check
from monitor.errors import ConfigError
from monitor.demo.site import Route
from monitor.lists.records import normalize_cell
from store.database import transaction
from store.models import Event, Snapshot
from store.current import stream_current_rows
from tests.conftest import NATIONWIDE, make_config, source_entry
from tests.lists.documents import HTML, html_page, publish_pages, seed_list
from tests.runtime.test_check import clock

PAGES = ["/local-government/tokyo/index.html", "/local-government/tokyo/index_2.html", "/local-government/tokyo/index_3.html"]
TITLE = "令和4年度 全国各地との連携事業一覧(令和4年4月1日時点)"


def nationwide(site, database_url, **pagination):
    entry = source_entry("nationwide", site.url(PAGES[0]), format="html-table", options={"header_contains": "事業名"}, pagination=pagination)
    config = make_config(database_url, entry)
    return config, open_store(config)


def test_three_pages_give_exactly_the_records_of_the_text_list(site, database_url):
    seed = seed_list(NATIONWIDE)
    publish_pages(site, seed, PAGES, title=TITLE)
    config, sessions = nationwide(site, database_url)
    (report,) = run_check(config, sessions, clock=clock()).sources
    assert (report.status, report.records, report.error, report.edition) == ("baseline", 79, None, "令和4年4月1日時点")
    assert [site.hits(path) for path in PAGES] == [1, 1, 1]
    with transaction(sessions) as session:
        stored = [row.fields for row in stream_current_rows(session, "nationwide")]
    assert len(stored) == len(seed.records)
    for expected, got in zip(seed.records, stored, strict=True):
        for column in seed.columns:
            assert normalize_cell(got[column]) == expected.normalized[column], f"{expected.line}, {column}"


def test_a_second_run_of_the_same_pages_is_unchanged_and_a_change_on_page_two_is_seen(site, database_url):
    seed = seed_list(NATIONWIDE)
    publish_pages(site, seed, PAGES, title=TITLE)
    config, sessions = nationwide(site, database_url)
    tick = clock()
    run_check(config, sessions, clock=tick)
    assert run_check(config, sessions, clock=tick).sources[0].status == "unchanged"
    seed.records[40].cells["備考"] = "令和9年度まで"
    publish_pages(site, seed, PAGES, title=TITLE)
    report = run_check(config, sessions, clock=tick).sources[0]
    assert report.status == "changed"
    assert [(c.name, list(c.fields)) for c in report.changed] == [(seed.records[40].cells["事業名"], ["備考"])]


def test_a_missing_page_makes_the_version_suspect_and_ends_nothing(site, database_url):
    publish_pages(site, seed_list(NATIONWIDE), PAGES, title=TITLE)
    config, sessions = nationwide(site, database_url)
    tick = clock()
    run_check(config, sessions, clock=tick)
    site.remove(PAGES[2])
    report = run_check(config, sessions, clock=tick).sources[0]
    assert report.status == "suspect"
    assert report.error == f"page 3 is missing, so the list is incomplete: {site.url(PAGES[2])}: HTTP 404 Not Found"
    assert not report.ended
    with transaction(sessions) as session:
        assert list(session.scalars(select(Event.kind))) == ["source_suspect"]
        assert len(list(stream_current_rows(session, "nationwide"))) == 79


def test_a_page_that_breaks_midway_is_suspect(site, database_url):
    publish_pages(site, seed_list(NATIONWIDE), PAGES, title=TITLE)
    site.publish(PAGES[1], Route(b"<html><body><h1>503 Service Unavailable</h1></body></html>", status=503, content_type=HTML))
    config, sessions = nationwide(site, database_url)
    report = run_check(config, sessions, clock=clock()).sources[0]
    assert report.status == "suspect" and "page 2 is missing" in report.error and "HTTP 503" in report.error


def test_a_pager_linking_back_to_an_earlier_page_ends_the_list(site, database_url):
    publish_pages(site, seed_list(NATIONWIDE), PAGES, title=TITLE, last_links_to=PAGES[0])
    config, sessions = nationwide(site, database_url)
    report = run_check(config, sessions, clock=clock()).sources[0]
    assert (report.status, report.records) == ("baseline", 79)
    assert [site.hits(path) for path in PAGES] == [1, 1, 1]


def test_a_page_linking_to_itself_ends_the_list(site, database_url):
    publish_pages(site, seed_list(NATIONWIDE), PAGES, title=TITLE, last_links_to=PAGES[2] + "#top")
    config, sessions = nationwide(site, database_url)
    assert run_check(config, sessions, clock=clock()).sources[0].records == 79
    assert site.hits(PAGES[2]) == 1


def test_more_pages_than_the_cap_is_suspect_not_a_shorter_list(site, database_url):
    publish_pages(site, seed_list(NATIONWIDE), PAGES, title=TITLE)
    config, sessions = nationwide(site, database_url, max_pages=2)
    report = run_check(config, sessions, clock=clock()).sources[0]
    assert report.status == "suspect"
    assert report.error == f"more than 2 pages (pagination.max_pages); the list goes on at {site.url(PAGES[2])}"
    assert site.hits(PAGES[2]) == 0


def test_a_configured_selector_finds_a_pager_without_rel_next(site, database_url):
    seed = seed_list(NATIONWIDE)
    for number, path in enumerate(PAGES):
        pager = f"<p class='pager'><a href='{PAGES[number + 1]}'>次のページ</a></p>" if number < 2 else ""
        site.publish(path, Route(html_page(seed, slice(number * 27, (number + 1) * 27), title=TITLE, pager=pager), content_type=HTML))
    config, sessions = nationwide(site, database_url, next_selector=".pager a")
    report = run_check(config, sessions, clock=clock()).sources[0]
    assert (report.status, report.records) == ("baseline", 79)
    with transaction(sessions) as session:
        snapshot = session.scalar(select(Snapshot))
        assert snapshot.edition == "令和4年4月1日時点" and session.scalar(select(func.count()).select_from(Event)) == 0


def test_a_page_with_other_columns_is_suspect(site, database_url):
    seed = seed_list(NATIONWIDE)
    publish_pages(site, seed, PAGES, title=TITLE)
    seed.columns = [*seed.columns[:-1], "備考欄"]
    for record in seed.records:
        record.cells["備考欄"] = record.cells["備考"]
    site.publish(PAGES[2], Route(html_page(seed, slice(54, 79), title=TITLE), content_type=HTML))
    config, sessions = nationwide(site, database_url)
    report = run_check(config, sessions, clock=clock()).sources[0]
    assert report.status == "suspect" and "page 3 has the columns" in report.error


@pytest.mark.parametrize(("pagination", "message"), [
    ({"next_selector": "a[rel=next"}, "pagination.next_selector: not a CSS selector"),
    ({"max_pages": 1}, "pagination.max_pages"),
    ({"follow": "next"}, "pagination.follow: unknown key"),
])
def test_bad_pagination_settings_are_refused_when_the_config_loads(pagination, message):
    entry = source_entry("nationwide", "https://example.lg.jp/list/index.html", pagination=pagination)
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        make_config("sqlite://", entry)
