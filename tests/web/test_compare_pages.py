"""Compare two dates a page at a time: counts first, pages of each kind, nothing lost between
pages, the CSV streamed whole, and a list run again is compared afresh."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from pathlib import Path

import httpx

from monitor.demo.site import running_site
from monitor.runtime.check import open_store, run_check
from tests.conftest import make_config, source_entry
from tests.versions import set_cell
from tests.web.conftest import LONG_NAME, NAME, PHONE, PHONE_NAME, T0, WebDB, _publish, app_for, clock, serving
from store.compare import kinds
from web.export import csv_bytes, csv_chunks

FIRST, THIRD = "2026-04-01", "2026-04-03"
KIND_ORDER = ["added", "ended", "renamed", "changed"]


def _get(client: httpx.Client, **params: object) -> dict:
    answer = client.get("/api/sources/tama/compare", params={"from": FIRST, "to": THIRD, **params})
    assert answer.status_code == 200, answer.text
    return answer.json()


def _walk(client: httpx.Client, by: str, **params: object) -> list[dict]:
    """Every page, following next_cursor (``by="cursor"``) or page numbers."""
    items: list[dict] = []
    found = _get(client, **params)
    while True:
        items += found["items"]
        assert len(found["items"]) <= found["limit"]
        if not found["has_next"]:
            assert found["next_cursor"] is None
            return items
        step = {"cursor": found["next_cursor"]} if by == "cursor" else {"page": found["page"] + 1}
        found = _get(client, **params, **step)


def test_every_measure_is_on_exactly_one_page_in_kind_order_whichever_way_one_pages(served: tuple[WebDB, httpx.Client]) -> None:
    _, client = served
    whole = _get(client, limit=500)
    assert whole["counts"] == {"added": 1, "ended": 1, "renamed": 1, "changed": 2} and whole["total"] == 5 and not whole["has_next"]
    assert [m["change"] for m in whole["items"]] == ["added", "ended", "renamed", "changed", "changed"]
    assert [m["measure_id"] for m in whole["changed"]] == [m["measure_id"] for m in whole["items"] if m["change"] == "changed"]
    for by in ("cursor", "page"):
        for limit in (1, 2, 3):
            assert _walk(client, by, limit=limit) == whole["items"], (by, limit)
    first = _get(client, limit=2)
    assert (first["total"], first["page"], first["has_next"], first["next_cursor"]) == (5, 1, True, f"ended:{whole['items'][1]['measure_id']}")
    assert first["counts"] == whole["counts"]  # the summary whatever the page
    changed = _walk(client, "cursor", kind="changed", limit=1)
    assert [m["name"] for m in changed] == [m["name"] for m in whole["changed"]] and PHONE_NAME in {m["name"] for m in changed}


def test_bad_paging_is_told(served: tuple[WebDB, httpx.Client]) -> None:
    _, client = served
    for params in ({"kind": "moved"}, {"limit": 0}, {"limit": 501}, {"cursor": "changed:x"}, {"cursor": "changed:1", "page": 2}):
        answer = client.get("/api/sources/tama/compare", params={"from": FIRST, "to": THIRD, **params})
        assert answer.status_code == 400, params
    assert "kind=changed" in client.get("/api/sources/tama/compare", params={"from": FIRST, "to": THIRD, "kind": "changed", "cursor": "added:1"}).text
    assert client.get("/sources/tama/compare", params={"from": FIRST, "to": THIRD, "kind": "moved"}).status_code == 400


def _names_on(page: str) -> list[str]:
    return re.findall(r'<th rowspan="\d+"><a href="[^"]*/measures/\d+">([^<]*)</a>', page)


def test_the_page_counts_first_then_pages_each_kind_by_its_links(served: tuple[WebDB, httpx.Client]) -> None:
    _, client = served
    whole = _get(client)
    page = client.get("/sources/tama/compare", params={"from": FIRST, "to": THIRD, "limit": 1}).text
    for kind, n in whole["counts"].items():
        assert f'/sources/tama/compare?from={FIRST}&amp;to={THIRD}&amp;kind={kind}"' in page  # the summary links each kind
        assert f'<h2 id="{kind}">' in page
    assert len(_names_on(page)) == 4  # the first of each kind; "next" for the second changed one
    assert f"kind=changed&amp;limit=1&amp;page=2" in page
    seen: list[str] = []
    for number in (1, 2):
        one = client.get("/sources/tama/compare", params={"from": FIRST, "to": THIRD, "kind": "changed", "limit": 1, "page": number}).text
        assert '<h2 id="added">' not in one and f"{number} / 2</span>" in one
        assert ('rel="next"' in one) == (number == 1) and ('rel="prev"' in one) == (number == 2)
        seen += _names_on(one)
    assert seen == [m["name"] for m in whole["changed"]]


def test_the_csv_is_the_whole_comparison_streamed(served: tuple[WebDB, httpx.Client]) -> None:
    _, client = served
    whole = _get(client, limit=500)
    with client.stream("GET", "/sources/tama/compare.csv", params={"from": FIRST, "to": THIRD}) as answer:
        assert answer.headers.get("transfer-encoding") == "chunked" and "content-length" not in answer.headers
        body = answer.read()
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert [int(m["measure_id"]) for m in whole["items"]] == list(dict.fromkeys(int(row["measure_id"]) for row in rows))
    assert [row["change"] for row in rows] == sorted((row["change"] for row in rows), key=KIND_ORDER.index)


def test_a_streamed_csv_is_the_same_bytes_as_a_built_one_cells_neutralised() -> None:
    rows = [["=HYPERLINK(\"http://x\")", "+1", "a,b"], *(["-", "@x", str(n)] for n in range(2500))]
    streamed = b"".join(csv_chunks(["h", "=h", "c"], rows, every=1000))
    assert streamed == csv_bytes(["h", "=h", "c"], rows) and streamed.count(b"'=") == 2
    assert len(list(csv_chunks(["h"], [["1"]] * 2500, every=1000))) == 4  # header, 1000, 1000, the rest


def test_a_list_run_again_is_compared_afresh(tmp_path: Path) -> None:
    """Which measure is of which kind is kept between pages, but not past the next run."""
    with running_site() as site:
        config = make_config(f"sqlite:///{tmp_path / 'again.db'}", source_entry("tama", site.url("/tama.txt")))
        sessions = open_store(config)
        _publish(site, [], "")
        run_check(config, sessions, clock=clock(T0))
        _publish(site, [set_cell(NAME, PHONE_NAME, PHONE, "03-5388-1111")], "")
        run_check(config, sessions, clock=clock(T0 + timedelta(days=1)))
        db = WebDB(config.database.url, config, sessions, 0, 0, 0, 0, 0, T0 + timedelta(days=3))
        params = {"from": FIRST, "to": THIRD}
        with serving(app_for(db)) as base, httpx.Client(base_url=base, timeout=30) as client:
            before = client.get("/api/sources/tama/compare", params=params).json()
            assert before["counts"]["changed"] == 1 and client.get("/api/sources/tama/compare", params=params).json() == before
            _publish(site, [set_cell(NAME, PHONE_NAME, PHONE, "03-5388-1111"), set_cell(NAME, LONG_NAME, PHONE, "03-0000-0001")], "")
            run_check(config, sessions, clock=clock(T0 + timedelta(days=2)))
            after = client.get("/api/sources/tama/compare", params=params).json()
    assert after["counts"]["changed"] == 2  # the second edit, made after the first look


def test_comparing_never_scans_the_big_tables(web_db: WebDB) -> None:
    """The classification and a page's reads go through indexes on both backends; on SQLite the
    classification reads its versions from the index alone (migration 0012)."""
    from tests.web.test_indexes import _captured, _full_scans
    from web.compare import compare, window_of

    first, last = date(2026, 4, 1), date(2026, 4, 3)
    classify = _captured(web_db, lambda read: kinds(read.session, window_of(read, "tama", first, last)[1]))
    assert _full_scans(web_db, classify) == []
    if web_db.url.startswith("sqlite"):
        with web_db.sessions() as session:
            plan = " ".join(str(row) for statement, parameters in classify if "GROUP BY" in statement
                            for row in session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters))
        assert "COVERING INDEX ix_measure_versions_source_span" in plan and "COVERING INDEX ix_events_measure_kind" in plan
    for kind in (None, "changed", "renamed"):
        assert _full_scans(web_db, _captured(web_db, lambda read: compare(read, "tama", first, last, kind=kind, limit=1))) == [], kind
