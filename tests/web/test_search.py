"""Search across lists and downloads, through the app on loopback, on SQLite and PostgreSQL.

The database is the pipeline's (tests/web/conftest.py): three runs of the 戦略2 list (a phone
changed twice, まちづくり推進コンシェルジュ removed) and two of the nationwide list (産業交流展
renamed 産業交流展2026), so past versions exist to be found.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from store.database import transaction
from store.models import Measure, MeasureVersion, Snapshot
from tests.conftest import fresh_database
from tests.web.conftest import PHONE_NAME, T0, WebDB, app_for, build, serving
from web.export import neutralise

REMOVED = "まちづくり推進コンシェルジュ"
FORMULA = '=HYPERLINK("http://evil.example/","押す")'


def _search(client: httpx.Client, q: str, **params: object) -> dict:
    answer = client.get("/api/search", params={"q": q, **params})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_japanese_queries_find_measures_of_both_lists(served: tuple[WebDB, httpx.Client]) -> None:
    _, client = served
    tama = _search(client, "多摩", limit=100)["items"]
    assert tama and all("多摩" in " ".join(h["fields"].values()) for h in tama)
    assert {h["source_id"] for h in tama} == {"tama", "nationwide"}  # 多摩 in both lists
    collab = _search(client, "連携事業", limit=100)["items"]
    assert collab and {h["source_id"] for h in collab} == {"nationwide"}
    assert all("連携事業" in " ".join(h["fields"].values()) for h in collab)
    both = _search(client, "多摩 連携", limit=100)["items"]
    assert both and all("多摩" in " ".join(h["fields"].values()) and "連携" in " ".join(h["fields"].values()) for h in both)
    assert len(both) < len(tama)


@pytest.mark.parametrize("query", ["多摩\x00連携", "連携事業\x00", "\x00多摩 連携"])
def test_a_query_with_nul_is_searched_as_its_terms_not_a_database_error(served: tuple[WebDB, httpx.Client], query: str) -> None:
    # Generated requests found it (tests/web/test_schemathesis.py): FTS5 and psycopg refused the
    # term, and the page said the database was unavailable (503).
    _, client = served
    answer = client.get("/api/search", params={"q": query, "limit": 100})
    assert answer.status_code == 200, answer.text
    expected = _search(client, query.replace("\x00", " "), limit=100)["items"]
    assert expected and answer.json()["items"] == expected
    assert client.get("/search", params={"q": query}).status_code == 200


def test_a_past_versions_text_is_found_with_its_status(served: tuple[WebDB, httpx.Client]) -> None:
    db, client = served
    old_phone = _search(client, "03-5388-9999")["items"]  # the phone of version 2, changed again by run 3
    assert [(h["name"], h["status"], h["measure_listed"]) for h in old_phone] == [(PHONE_NAME, "ended", True)]
    assert old_phone[0]["ended_on"] == (T0 + timedelta(days=2)).date().isoformat()
    assert old_phone[0]["page"] == f"/measures/{db.phone_measure}"
    removed = _search(client, REMOVED)["items"]
    assert [(h["status"], h["measure_listed"], h["ended_on"]) for h in removed] == [("ended", False, (T0 + timedelta(days=1)).date().isoformat())]
    renamed = _search(client, "産業交流展")["items"]
    assert {(h["name"], h["status"]) for h in renamed} == {("産業交流展2026", "current"), ("産業交流展", "ended")}


def test_the_search_page_shows_list_status_and_links(served: tuple[WebDB, httpx.Client]) -> None:
    db, client = served
    page = client.get("/search", params={"q": "03-5388"})
    assert page.status_code == 200
    assert f'href="/measures/{db.phone_measure}"' in page.text
    assert "現行" in page.text and f"{(T0 + timedelta(days=2)).date().isoformat()} まで（旧版）" in page.text
    assert "/search.csv?q=03-5388" in page.text
    removed = client.get("/search", params={"q": REMOVED}).text
    assert f"{(T0 + timedelta(days=1)).date().isoformat()} に掲載終了" in removed
    assert "見つかりませんでした" in client.get("/search", params={"q": "存在しない語句です"}).text
    assert 'href="/search"' in client.get("/").text


def test_results_are_paginated_and_bounded(served: tuple[WebDB, httpx.Client]) -> None:
    _, client = served
    first, second = _search(client, "多摩", limit=2), _search(client, "多摩", limit=2, page=2)
    assert first["has_next"] and len(first["items"]) == 2 == len(second["items"])
    assert not {h["version_id"] for h in first["items"]} & {h["version_id"] for h in second["items"]}
    assert client.get("/api/search", params={"q": "多摩", "limit": 101}).status_code == 400
    assert client.get("/api/search", params={"q": "多摩", "limit": 0}).status_code == 400
    too_long = client.get("/search", params={"q": "あ" * 201})
    assert too_long.status_code == 400 and "200 文字" in too_long.text
    assert client.get("/search", params={"q": "多摩", "limit": "x"}).status_code == 400
    # LIKE wildcards in a query are literal characters, not patterns.
    assert _search(client, "%")["items"] == []
    underscores = _search(client, "_", limit=100)["items"]
    assert underscores and all("_" in " ".join(h["fields"].values()) for h in underscores)


def _formula_in_current_list(db: WebDB) -> None:
    """A cell that starts like a formula, as a list could publish it."""
    with transaction(db.sessions) as session:
        version = session.scalar(select(MeasureVersion).where(MeasureVersion.measure_id == db.phone_measure, MeasureVersion.valid_to.is_(None)))
        assert version is not None
        measure = session.get(Measure, db.phone_measure)
        snapshot = session.scalar(select(Snapshot).where(Snapshot.source_id == "tama").order_by(Snapshot.id.desc()).limit(1))
        assert measure is not None and snapshot is not None
        moment = db.now - timedelta(hours=1)
        version.valid_to, version.valid_to_snapshot_id = moment, snapshot.id
        fields = {**version.fields, "備考": FORMULA, "連絡先": "-1+2"}
        session.add(MeasureVersion(measure_id=measure.id, source_id="tama", fields=fields, content_hash="f" * 64, name=version.name,
                                   valid_from_snapshot_id=snapshot.id, valid_from=moment))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WebDB, httpx.Client]]:
    """The pipeline's database of conftest, of this module alone: a cell is added that looks like a formula."""
    with fresh_database(request.param, tmp_path_factory.mktemp("search"), prefix="sesaku_search") as url:
        db = build(url)
        _formula_in_current_list(db)
        with serving(app_for(db)) as base, httpx.Client(base_url=base, timeout=30) as client:
            yield db, client
        db.sessions.kw["bind"].dispose()


def test_list_csv_has_a_bom_and_neutralised_formulas(served: tuple[WebDB, httpx.Client]) -> None:
    db, client = served
    answer = client.get("/sources/tama.csv")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert 'filename="tama-current.csv"' in answer.headers["content-disposition"]
    assert answer.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[0] == "measure_id" and "施策" in header
    mine = next(r for r in body if r[0] == str(db.phone_measure))
    assert mine[header.index("備考")] == "'" + FORMULA and mine[header.index("連絡先")] == "'-1+2"
    assert len(body) == client.get("/api/sources/tama").json()["total"]


def test_list_xlsx_reads_back_as_text_not_formulas(served: tuple[WebDB, httpx.Client]) -> None:
    db, client = served
    answer = client.get("/sources/tama.xlsx")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(answer.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = rows[0]
    mine = next(r for r in rows[1:] if r[0] == str(db.phone_measure))
    cell = sheet.cell(row=rows.index(mine) + 1, column=header.index("備考") + 1)
    assert cell.value == "'" + FORMULA and cell.data_type == "s"
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_list_as_of_a_past_day(served: tuple[WebDB, httpx.Client]) -> None:
    _, client = served
    first_day = T0.date().isoformat()
    answer = client.get("/sources/tama.csv", params={"as_of": first_day})
    assert 'filename="tama-' + first_day + '.csv"' in answer.headers["content-disposition"]
    text = answer.content.decode("utf-8-sig")
    assert REMOVED in text and "03-5388-9999" not in text  # as listed on day one
    assert len(list(csv.reader(io.StringIO(text)))) - 1 == client.get("/api/sources/tama", params={"as_of": first_day}).json()["total"]
    assert REMOVED not in client.get("/sources/tama.csv").content.decode("utf-8-sig")
    assert f'href="/sources/tama.csv?as_of={first_day}"' in client.get("/sources/tama", params={"as_of": first_day}).text
    assert client.get("/sources/nope.csv").status_code == 404
    assert client.get("/sources/tama.xlsx", params={"as_of": "2026-13-40"}).status_code == 400


def test_search_exports(served: tuple[WebDB, httpx.Client]) -> None:
    _, client = served
    answer = client.get("/search.csv", params={"q": "03-5388"})
    assert answer.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["list", "status", "ended_on", "measure_id", "measure_url"]
    assert {"current", "ended"} <= {r[1] for r in rows[1:]}
    assert len(rows) - 1 == len(_search(client, "03-5388", limit=100)["items"])
    sheet = load_workbook(io.BytesIO(client.get("/search.xlsx", params={"q": "HYPERLINK"}).content)).active
    values = [c.value for row in sheet.iter_rows(min_row=2) for c in row]
    assert "'" + FORMULA in values and all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


@pytest.mark.parametrize(("cell", "shown"), [("=1+1", "'=1+1"), ("+81", "'+81"), ("-", "'-"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
                                             ("\r=1", "'\r=1"), ("03-5388", "03-5388"), ("多摩=1", "多摩=1"), ("", "")])
def test_neutralise(cell: str, shown: str) -> None:
    assert neutralise(cell) == shown
