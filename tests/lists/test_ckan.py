"""``kind: ckan``: a fake CKAN portal on loopback; each resource a list, through the real check (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest

from monitor.demo.site import Route
from monitor.errors import ParseError
from monitor.lists.ckan import dataset_resources
from monitor.runtime.check import open_store, run_check
from tests.conftest import NATIONWIDE, make_config, seed_text, source_entry
from tests.runtime.test_check import clock

API = "/data/api/3/action/package_show"


def dataset(site, *resources: tuple[str, str, str]) -> Route:
    items = [{"id": f"r{n}", "name": name, "format": fmt, "url": site.url(path)} for n, (name, fmt, path) in enumerate(resources)]
    items.append({"id": "zip", "name": "一括ダウンロード", "format": "ZIP", "url": site.url("/all.zip")})
    return Route(json.dumps({"success": True, "result": {"name": "renkei", "resources": items}}, ensure_ascii=False).encode("utf-8"), content_type="application/json")


@pytest.fixture
def portal(site, database_url):
    site.publish("/r6/list.txt", Route(seed_text(NATIONWIDE).encode("utf-8")))
    site.publish(API, dataset(site, ("全国各地との連携事業一覧（令和6年度）", "TXT", "/r6/list.txt")))
    entry = source_entry("nationwide", site.url(API) + "?id=renkei", kind="ckan", format="auto")
    config = make_config(database_url, entry)
    return config, open_store(config)


def test_each_resource_is_a_list_named_by_its_name_and_read_in_its_format(portal, site):
    config, sessions = portal
    report = run_check(config, sessions, clock=clock())
    assert [(s.id[: len("nationwide-")], s.status) for s in report.sources] == [("nationwide", "baseline"), ("nationwide-", "baseline")]
    assert report.sources[1].records == 79  # the ZIP is no list


def test_a_new_upload_keeps_the_list_and_a_new_resource_is_list_added(portal, site):
    config, sessions = portal
    tick = clock()
    first = run_check(config, sessions, clock=tick)
    site.publish("/r7/upload-2.txt", Route(seed_text(NATIONWIDE).encode("utf-8")))
    site.publish("/guide.csv", Route("事業名,所管局\n案内,政策企画局\n".encode("utf-8"), content_type="text/csv"))
    site.publish(API, dataset(site, ("全国各地との連携事業一覧（令和7年度）", "TXT", "/r7/upload-2.txt"), ("案内", "CSV", "/guide.csv")))
    second = run_check(config, sessions, clock=tick)
    index = second.sources[0]
    assert second.sources[1].id == first.sources[1].id and second.sources[1].status in ("unchanged", "not_modified")
    assert [item["title"] for item in index.lists_added] == ["案内"] and index.lists_removed == []
    site.publish(API, dataset(site, ("全国各地との連携事業一覧（令和7年度）", "TXT", "/r7/upload-2.txt")))
    third = run_check(config, sessions, clock=tick).sources[0]
    assert [item["title"] for item in third.lists_removed] == ["案内"]


def test_an_answer_that_is_not_ckan_is_a_clear_error():
    with pytest.raises(ParseError, match="portal: not a CKAN package_show answer .success is not true: Not found"):
        dataset_resources(b'{"success": false, "error": "Not found"}', "portal")
