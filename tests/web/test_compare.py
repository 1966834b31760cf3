"""A list compared between two dates, as a planner asks it: page, JSON and CSV on both backends."""

from __future__ import annotations

import csv
import io
import unicodedata
from datetime import datetime, timezone

import httpx

from monitor.events import ChangedFields, EventKind, FieldChange, Renamed
from store.models import Event
from tests.web.conftest import LONG_NAME, PHONE_NAME, RENAMED, XSS_NAME, WebDB
from web.compare import fold

# The pipeline ran on 04-01 (baseline), 04-02 (v2) and 04-03 (v3), Japan time.
FIRST, SECOND, THIRD = "2026-04-01", "2026-04-02", "2026-04-03"


def _compare(client: httpx.Client, first: str, last: str, source: str = "tama") -> dict:
    answer = client.get(f"/api/sources/{source}/compare", params={"from": first, "to": last})
    assert answer.status_code == 200, answer.text
    return answer.json()


def _names(measures: list[dict]) -> set[str]:
    return {m["name"] for m in measures}


def test_two_dates_give_what_was_added_ended_renamed_and_changed_in_between(served: tuple[WebDB, httpx.Client]) -> None:
    db, client = served
    found = _compare(client, FIRST, THIRD)
    assert _names(found["added"]) == {XSS_NAME} and _names(found["ended"]) == {"まちづくり推進コンシェルジュ"}
    assert [(m["old_name"], m["name"]) for m in found["renamed"]] == [("多摩の魅力発信プロジェクト", unicodedata.normalize("NFKC", RENAMED))]
    changed = {m["name"]: m["changes"] for m in found["changed"]}
    assert set(changed) == {PHONE_NAME, LONG_NAME}
    phone = next(iter(changed[PHONE_NAME].values()))
    assert phone["new"] == "03-5388-7777" and phone["old"] not in ("03-5388-9999", "03-5388-7777")  # two steps, one change
    summary = next(iter(changed[LONG_NAME].values()))
    assert summary["runs"] and {"delete", "insert"} <= {run["op"] for run in summary["runs"]}  # a word diff

    later = _compare(client, SECOND, THIRD)
    assert (later["added"], later["ended"], later["renamed"]) == ([], [], [])
    assert [(m["name"], next(iter(m["changes"].values()))["old"]) for m in later["changed"]] == [(PHONE_NAME, "03-5388-9999")]
    assert all(not _compare(client, SECOND, SECOND)[kind] for kind in ("added", "ended", "renamed", "changed"))


def test_the_page_and_the_csv_say_the_same_inertly(served: tuple[WebDB, httpx.Client]) -> None:
    _, client = served
    page = client.get("/sources/tama/compare", params={"from": FIRST, "to": THIRD})
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;" in page.text
    assert "<del>03-5388" in page.text and "<ins>03-5388-7777</ins>" in page.text
    assert "compare.csv?from=2026-04-01&amp;to=2026-04-03" in page.text
    body = client.get("/sources/tama/compare.csv", params={"from": FIRST, "to": THIRD}).content
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert {"added", "ended", "renamed", "changed"} == {row["change"] for row in rows}
    assert any(row["name"] == PHONE_NAME and row["new"] == "03-5388-7777" for row in rows)


def test_a_date_before_monitoring_began_is_said_and_compares_from_the_first_list(served: tuple[WebDB, httpx.Client]) -> None:
    _, client = served
    assert _compare(client, "2025-01-01", THIRD) == {**_compare(client, FIRST, THIRD), "date_from": "2025-01-01"}
    page = client.get("/sources/tama/compare", params={"from": "2025-01-01", "to": THIRD})
    assert "2026-04-01" in page.text and ("監視の開始" in page.text or "before monitoring" in page.text)


def test_bad_dates_and_unknown_lists_are_told(served: tuple[WebDB, httpx.Client]) -> None:
    _, client = served
    for params in ({"from": FIRST}, {"from": THIRD, "to": FIRST}, {"from": "2026-13-40", "to": THIRD}):
        assert client.get("/sources/tama/compare", params=params).status_code == 400
        assert client.get("/api/sources/tama/compare", params=params).status_code == 400
    assert client.get("/sources/nope/compare", params={"from": FIRST, "to": THIRD}).status_code == 404


def _event(kind: EventKind, payload: ChangedFields) -> Event:
    return Event(kind=kind, payload=payload.to_payload(), created_at=datetime(2026, 4, 1, tzinfo=timezone.utc))


def test_steps_fold_to_first_old_and_last_new_and_an_edit_undone_is_no_change() -> None:
    steps = [
        _event(EventKind.CHANGED, ChangedFields(1, "k", "n", {"連絡先": FieldChange("1", "2"), "備考": FieldChange("a", "b")})),
        _event(EventKind.RENAMED, Renamed(1, "k", "n2", {"連絡先": FieldChange("2", "3")}, "n", "n2")),
        _event(EventKind.CHANGED, ChangedFields(1, "k", "n2", {"備考": FieldChange("b", "a")})),
    ]
    changes, renamed = fold(steps)
    assert changes == {"連絡先": FieldChange("1", "3")} and renamed == ("n", "n2")
    back = [*steps, _event(EventKind.RENAMED, Renamed(1, "k", "n", {}, "n2", "n"))]
    assert fold(back)[1] is None
