"""``format: json`` and ``requests:``: a fake Jグランツ on loopback, through the real check (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from monitor.demo.site import Route
from monitor.errors import ConfigError, ParseError
from monitor.lists.json_requests import request_urls
from monitor.lists.parsers import Document, parse_document
from monitor.runtime.check import open_store, run_check
from tests.conftest import make_config
from tests.runtime.test_check import clock

API = "/exp/v1/public/subsidies"
FIELDS = {"ID": "id", "名称": "title", "対象地域": "target_area_search", "補助上限額": "subsidy_max_limit", "受付終了": "acceptance_end_datetime"}


def subsidy(number: int, end: str = "2031-03-31T08:00:00.000Z", title: str | None = None) -> dict[str, object]:
    return {"id": f"a0W5h00000{number:04d}", "name": f"S-{number}", "title": title or f"補助金その{number}", "target_area_search": ["東京都"],
            "subsidy_max_limit": 1000000 * number, "acceptance_start_datetime": "2024-04-01T00:00:00.000Z", "acceptance_end_datetime": end}


def answer(*items: dict[str, object]) -> Route:
    return Route(json.dumps({"metadata": {"type": "application/json", "resultset": {"count": len(items)}}, "result": list(items)}, ensure_ascii=False).encode("utf-8"),
                 content_type="application/json")


class Jgrants:
    """Answers by keyword, as the real API does (the loopback site ignores the query, so each keyword has its own path)."""

    def __init__(self, site) -> None:
        self.site = site

    def entry(self, **overrides):
        options = {"records": "result", "fields": FIELDS, "requests": [{"keyword": "東京都"}, {"keyword": "多摩"}]}
        entry = {"id": "jgrants", "title": "Jグランツ", "url": self.site.url(API) + "?sort=created_date&order=DESC&acceptance=1", "format": "json",
                 "options": options, "key_columns": ["ID"], "name_column": "名称", "end_date_columns": ["受付終了"]}
        return {**entry, **overrides}


@pytest.fixture
def jgrants(site):
    site.publish(API, answer(subsidy(1), subsidy(2), subsidy(3, end="2024-06-28T08:00:00.000Z")))
    return Jgrants(site)


def test_several_requests_are_one_list_each_key_once(jgrants, site, database_url):
    config = make_config(database_url, jgrants.entry())
    report = run_check(config, open_store(config), clock=clock(datetime(2024, 5, 1, tzinfo=timezone.utc)))
    jg = report.sources[0]
    # Both requests answer the same three subsidies: three measures, not six.
    assert (jg.status, jg.records) == ("baseline", 3)
    # One request per keyword, the url's own query kept.
    for url in request_urls(jgrants.entry()["url"], [{"keyword": "東京都"}, {"keyword": "多摩"}]):
        assert site.hits(url.removeprefix(site.url(""))) == 1 and "acceptance=1" in url


def test_an_iso_end_datetime_expires_the_measure_on_its_local_date(jgrants, site, database_url):
    config = make_config(database_url, jgrants.entry())
    sessions = open_store(config)
    run_check(config, sessions, clock=clock(datetime(2024, 5, 1, tzinfo=timezone.utc)))
    site.publish(API, answer(subsidy(1), subsidy(2, title="補助金その2（第2回公募）"), subsidy(3, end="2024-06-28T08:00:00.000Z"), subsidy(4)))
    later = run_check(config, sessions, clock=clock(datetime(2024, 7, 1, tzinfo=timezone.utc))).sources[0]
    assert [c.key for c in later.added] == ["a0W5h000000004"]
    assert [(c.key, c.end_date) for c in later.expired] == [("a0W5h000000003", "2024-06-28")]
    assert later.renamed or later.changed


def test_a_disabled_source_is_not_run_and_check_says_so(jgrants, site, database_url):
    config = make_config(database_url, jgrants.entry(enabled=False))
    report = run_check(config, open_store(config), clock=clock())
    assert [(s.id, s.status) for s in report.sources] == [("jgrants", "disabled")]
    assert report.sources[0].error and "enabled: false" in report.sources[0].error


def test_fields_by_dotted_path_and_datetimes_in_the_planners_zone():
    body = json.dumps({"data": {"items": [{"id": 7, "detail": {"end": "2025-12-26T15:00:00Z"}, "tags": ["a", "b"], "open": True}]}}).encode()
    parsed = parse_document(Document(body, "api"), "json", {"records": "data.items", "fields": {"ID": "id", "終了": "detail.end", "タグ": "tags", "受付中": "open", "無": "x.y"}})
    assert parsed.records[0].cells == {"ID": "7", "終了": "2025-12-27T00:00:00+09:00", "タグ": "a、b", "受付中": "true", "無": ""}


def test_records_not_at_the_path_are_a_clear_parse_error():
    with pytest.raises(ParseError, match="records path 'result' holds dict, not an array"):
        parse_document(Document(b'{"result": {"a": 1}}', "api"), "json", {"records": "result", "fields": {"ID": "id"}})
    with pytest.raises(ParseError, match="api: not JSON"):
        parse_document(Document(b"<html>", "api"), "json", {"fields": {"ID": "id"}})


def test_a_json_source_without_fields_is_refused_when_the_config_loads():
    with pytest.raises(ConfigError, match="sources.0.*options: fields: required key is missing|options.*fields"):
        make_config("sqlite://", {"id": "j", "title": "j", "url": "https://example.lg.jp/api", "format": "json", "options": {"records": "result"},
                                  "key_columns": ["ID"], "name_column": "ID"})
