"""Documents built to make a parser recurse or go quadratic: each is one list's ``suspect``,
with one line saying why, and the run goes on with the other lists (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest

from monitor.demo.site import LoopbackSite, Route
from monitor.errors import ParseError
from monitor.lists.parsers import Document, parse_document
from monitor.runtime.check import open_store, run_check
from tests.conftest import TAMA, make_config, seed_text, source_entry
from tests.runtime.test_check import clock

DEEP_JSON = b"[" * 100_000 + b"]" * 100_000  # 200 KB; Python's json gives up past about 1,000 levels


def nested_tables(depth: int) -> bytes:
    row = "<tr><th>施策名</th><th>所管</th></tr><tr><td>多摩の魅力発信</td><td>政策企画局</td></tr>"
    return ("<html><body>" + "<table><tr><td>" * depth + f"<table>{row}</table>" + "</td></tr></table>" * depth
            + "</body></html>").encode()


@pytest.mark.parametrize(("entry", "line"), [
    ({"kind": "ckan", "format": "auto"}, "not a CKAN answer: JSON nested too deeply to read"),
    ({"format": "json", "options": {"fields": {"名称": "name"}}}, "not JSON that can be read: nested too deeply"),
])
def test_json_nested_past_what_python_reads_is_suspect_and_the_run_goes_on(site: LoopbackSite, database_url: str,
                                                                             entry: dict, line: str) -> None:
    site.publish("/api", Route(DEEP_JSON, content_type="application/json"))
    site.publish("/tama.txt", Route(seed_text(TAMA).encode()))
    config = make_config(database_url, source_entry("api", site.url("/api"), **entry), source_entry("tama", site.url("/tama.txt")))
    api, tama = run_check(config, open_store(config), clock=clock()).sources
    assert (api.status, api.error) == ("suspect", f"{site.url('/api')}: {line}")
    assert (tama.status, tama.records) == ("baseline", 44)


def test_tables_nested_thousands_deep_are_refused_before_they_are_read() -> None:
    # 2,500 deep is an 80 KB page that took 10 s of CPU to read; 20,000 (660 KB) took minutes.
    with pytest.raises(ParseError, match=r"^deep.html: tables nested 2501 deep, more than the 50 a list is read through$"):
        parse_document(Document(nested_tables(2500), url="deep.html"), "html-table")


def test_layout_tables_a_few_deep_still_read() -> None:
    parsed = parse_document(Document(nested_tables(5), url="layout.html"), "html-table")
    assert [record.cells for record in parsed.records] == [{"施策名": "多摩の魅力発信", "所管": "政策企画局"}]


def test_an_index_page_with_more_lists_than_an_index_has_is_suspect_and_none_is_fetched(site: LoopbackSite, database_url: str) -> None:
    # 8,000 links took 3 s of CPU to read (each new list compared with every one before), 80,000 minutes.
    links = "".join(f"<li><a href='/lists/{n}.txt'>施策一覧 {n}</a></li>" for n in range(1500))
    site.publish("/index.html", Route(f"<html><body><ul>{links}</ul></body></html>".encode(), content_type="text/html"))
    site.publish("/api", Route(json.dumps({"success": True, "result": {"resources": [
        {"name": f"施策一覧 {n}", "url": site.url(f"/lists/{n}.txt"), "format": "TXT"} for n in range(1500)]}}).encode(),
        content_type="application/json"))
    config = make_config(database_url, source_entry("idx", site.url("/index.html"), kind="index", link_pattern="施策一覧"),
                         source_entry("ckan", site.url("/api"), kind="ckan", format="auto"))
    reports = run_check(config, open_store(config), clock=clock()).sources
    assert [(report.id, report.status, report.error) for report in reports] == [
        (source, "suspect", "more than 1000 lists on the index page, more than an index may have (max_lists): not followed")
        for source in ("idx", "ckan")]
    assert not any(site.hits(f"/lists/{n}.txt") for n in range(1500))


def test_max_lists_is_the_index_s_own_bound(site: LoopbackSite, database_url: str) -> None:
    links = "".join(f"<li><a href='/lists/{n}.txt'>施策一覧 {n}</a></li>" for n in range(3))
    site.publish("/index.html", Route(f"<html><body><ul>{links}</ul></body></html>".encode(), content_type="text/html"))
    for n in range(3):
        site.publish(f"/lists/{n}.txt", Route(seed_text(TAMA).encode()))
    small = source_entry("small", site.url("/index.html"), kind="index", link_pattern="施策一覧", max_lists=2)
    roomy = source_entry("roomy", site.url("/index.html"), kind="index", link_pattern="施策一覧", max_lists=3)
    config = make_config(database_url, small, roomy)
    reports = {report.id: report for report in run_check(config, open_store(config), clock=clock()).sources}
    assert (reports["small"].status, reports["small"].error) == (
        "suspect", "more than 2 lists on the index page, more than an index may have (max_lists): not followed")
    assert [(report.status, report.records > 0) for report in reports["roomy"].lists] == [("baseline", True)] * 3
    assert all(site.hits(f"/lists/{n}.txt") == 1 for n in range(3))  # by roomy alone


@pytest.mark.parametrize("cell", ["\u1369", "9" * 5000])  # an Ethiopic digit one; a number int() refuses to read
def test_a_column_of_digits_int_cannot_read_is_a_column_like_any_other(site: LoopbackSite, database_url: str, cell: str) -> None:
    # Looking for a row-number column, int() raised on these and ended the whole check run.
    rows = "".join(f"施策{n},局{n},{cell}\n" for n in range(30))
    site.publish("/list.csv", Route(f"施策名,所管,値\n{rows}".encode(), content_type="text/csv"))
    site.publish("/tama.txt", Route(seed_text(TAMA).encode()))
    entry = source_entry("csv", site.url("/list.csv"), format="csv", key_columns=["施策名"], name_column="施策名",
                         url_columns=[], end_date_columns=[])
    config = make_config(database_url, entry, source_entry("tama", site.url("/tama.txt")))
    reports = run_check(config, open_store(config), clock=clock()).sources
    assert [(report.id, report.status, report.records) for report in reports] == [("csv", "baseline", 30), ("tama", "baseline", 44)]


def test_json_escaping_half_a_surrogate_pair_is_read_with_a_replacement_character(site: LoopbackSite, database_url: str) -> None:
    # "\ud800" is valid JSON and no UTF-8 string: writing it to the store ended the whole run.
    body = b'{"result": [{"name": "\\ud800\xe6\x96\xbd\xe7\xad\x96", "dept": "a"}, {"name": "ok", "dept": "\\udfff"}]}'
    site.publish("/api.json", Route(body, content_type="application/json"))
    site.publish("/ckan", Route(b'{"success": true, "result": {"resources": [{"name": "\\ud800list", "url": "'
                                + site.url("/tama.txt").encode() + b'", "format": "TXT"}]}}', content_type="application/json"))
    site.publish("/tama.txt", Route(seed_text(TAMA).encode()))
    entry = source_entry("json", site.url("/api.json"), format="json", key_columns=["名称"], name_column="名称", url_columns=[],
                         end_date_columns=[], options={"records": "result", "fields": {"名称": "name", "所管": "dept"}})
    config = make_config(database_url, entry, source_entry("ckan", site.url("/ckan"), kind="ckan", format="auto"))
    reports = run_check(config, open_store(config), clock=clock()).sources
    assert [(report.id[:5], report.status, report.error) for report in reports] == [
        ("json", "baseline", None), ("ckan", "baseline", None), ("ckan-", "baseline", None)]
    assert [line for report in reports for line in report.warnings] == []
    parsed = parse_document(Document(body, url="api.json", content_type="application/json"), "json",
                            {"records": "result", "fields": {"名称": "name", "所管": "dept"}})
    assert [record.cells for record in parsed.records] == [{"名称": "\ufffd施策", "所管": "a"}, {"名称": "ok", "所管": "\ufffd"}]


@pytest.mark.parametrize(("entry", "line"), [
    ({"kind": "ckan", "format": "auto"}, "not a CKAN answer: not JSON (Exceeds the limit (4300 digits)"),
    ({"format": "json", "options": {"fields": {"名称": "name"}}}, "not JSON (Exceeds the limit (4300 digits)"),
])
def test_json_with_a_number_python_will_not_read_is_suspect(site: LoopbackSite, database_url: str, entry: dict, line: str) -> None:
    site.publish("/api", Route(b'{"success": true, "result": [{"name": ' + b"9" * 5000 + b"}]}", content_type="application/json"))
    config = make_config(database_url, source_entry("api", site.url("/api"), **entry))
    (report,) = run_check(config, open_store(config), clock=clock()).sources
    assert report.status == "suspect" and report.error.startswith(f"{site.url('/api')}: {line}")
