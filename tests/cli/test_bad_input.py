"""Bad input: each case gives a clear error in the report, keeps every earlier version, and
the next good run works (DESIGN.md "Guard against false alarms")."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from monitor.runtime.check import open_store, run_check
from monitor.demo.site import Route
from store.database import transaction
from store.models import Event, Measure, MeasureVersion
from tests.conftest import TAMA, make_config, seed_text, source_entry
from tests.runtime.test_check import clock, publish
from tests.versions import derive, remove_row

SEED = seed_text(TAMA)
HTML_ERROR = "<!DOCTYPE html><html><head><title>メンテナンス中</title></head><body><h1>ただいまメンテナンス中です</h1></body></html>"


def _half_removed(text: str) -> str:
    rows = text.split("\n")
    return "\n".join(rows[:27])


def _department_lost(text: str) -> str:
    """担当部署's header replaced and its cells emptied: a configured column gone, not renamed
    (a header replaced over the same values is a column rename, read quietly)."""
    def edit(rows: list[list[str]]) -> None:
        header = next(n for n, cells in enumerate(rows) if "担当部署" in cells)
        column = rows[header].index("担当部署")
        rows[header][column] = "所管"
        for cells in rows[header + 1:]:
            if len(cells) > column:
                cells[column] = ""
    return derive(text, edit)


BAD_ANSWERS = {
    "http_404": (Route(b"not here", status=404), "failed", "HTTP 404"),
    "http_500": (Route(b"oops", status=500), "failed", "HTTP 500"),
    "truncated": (Route((SEED + "\n").encode(), truncate_at=3000), "failed", "cut short"),
    "never_answers": (Route(hang_s=8), "failed", "timed out"),
    "fifty_megabytes": (Route(b"x" * 50_000_000), "failed", "over the 20000000 byte cap"),
    "html_error_page": (Route(HTML_ERROR.encode(), content_type="text/html"), "suspect", "HTML page"),
    "empty_list": (Route(b"\n\n"), "suspect", "no header row"),
    "no_header_row": (Route("ただの文章です。\n一覧はありません。\n".encode()), "suspect", "no header row"),
    "header_changed": (Route(_department_lost(SEED).encode()), "suspect", "column '担当部署' is missing"),
    "half_the_list_lost": (Route(_half_removed(SEED).encode()), "suspect", "more than 50% lost"),
    "row_with_too_many_cells": (Route(SEED.replace("03-5388-2443\t\t", "03-5388-2443\t\t\t\t余計なセル", 1).encode()), "suspect", "extra text"),
}


@pytest.mark.parametrize("case", sorted(BAD_ANSWERS))
def test_bad_answer_keeps_baseline_and_next_good_run_works(case, site, database_url):
    route, status, message = BAD_ANSWERS[case]
    publish(site, "/tama.txt", SEED)
    config = make_config(database_url, source_entry("tama", site.url("/tama.txt")),
                         http={"read_timeout_s": 1, "total_timeout_s": 3})
    sessions = open_store(config)
    tick = clock()
    run_check(config, sessions, clock=tick)
    site.publish("/tama.txt", route)
    source = run_check(config, sessions, clock=tick).sources[0]
    assert source.status == status
    assert message in source.error
    assert source.ended == [] and source.added == []
    with transaction(sessions) as session:
        assert session.scalar(select(func.count()).select_from(Measure).where(Measure.ended_at.is_not(None))) == 0
        kinds = list(session.scalars(select(Event.kind)))
        assert kinds == [f"source_{status}"]
    publish(site, "/tama.txt", derive(SEED, remove_row(0, "市街地再開発事業")))
    recovered = run_check(config, sessions, clock=tick).sources[0]
    assert recovered.status == "changed"
    assert [c.name for c in recovered.ended] == ["市街地再開発事業"]
    with transaction(sessions) as session:
        assert list(session.scalars(select(Event.kind).order_by(Event.id)))[-2:] == ["ended", "source_recovered"]


def test_a_server_down_for_days_is_reported_once_when_it_starts_and_once_when_it_ends(site, database_url):
    publish(site, "/tama.txt", SEED)
    config = make_config(database_url, source_entry("tama", site.url("/tama.txt")))
    sessions = open_store(config)
    tick = clock()
    run_check(config, sessions, clock=tick)
    site.publish("/tama.txt", Route(b"down", status=503))
    for _ in range(4):
        assert run_check(config, sessions, clock=tick).sources[0].status == "failed"
    publish(site, "/tama.txt", SEED + "\n")
    run_check(config, sessions, clock=tick)
    with transaction(sessions) as session:
        assert list(session.scalars(select(Event.kind).order_by(Event.id))) == ["source_failed", "source_recovered"]


@pytest.mark.parametrize("encoding", ["cp932", "euc_jp", "utf-8-sig", "utf-8"])
def test_japanese_encodings_give_the_same_list(encoding, site, database_url):
    text = SEED.replace("①", "1").replace("②", "2").replace("③", "3") if encoding == "euc_jp" else SEED
    site.publish("/tama.txt", Route(text.encode(encoding), content_type="text/plain"))
    config = make_config(database_url, source_entry("tama", site.url("/tama.txt")))
    sessions = open_store(config)
    source = run_check(config, sessions, clock=clock()).sources[0]
    assert source.status == "baseline" and source.records == 44
    with transaction(sessions) as session:
        names = set(session.scalars(select(MeasureVersion.name)))
    assert "多摩・島しょ地域への移住・定住促進に向けた相談窓口" in names


def test_a_missing_file_url_is_a_failed_source_not_a_crash(tmp_path, database_url):
    config = make_config(database_url, source_entry("tama", f"file://{tmp_path}/missing.txt"))
    source = run_check(config, open_store(config), clock=clock()).sources[0]
    assert source.status == "failed" and "no such file" in source.error


def test_one_failing_source_does_not_stop_the_others(site, database_url):
    publish(site, "/tama.txt", SEED)
    config = make_config(database_url, source_entry("broken", site.url("/nothing.txt")), source_entry("tama", site.url("/tama.txt")))
    report = run_check(config, open_store(config), clock=clock())
    assert [s.status for s in report.sources] == ["failed", "baseline"]
    assert not report.ok


def test_a_short_row_is_kept_with_a_warning(site, database_url):
    short = SEED.replace("多摩ニュータウン地域再生検討\t", "多摩ニュータウン地域再生検討\t", 1)
    rows = short.split("\n")
    rows[-1] = "\t".join(rows[-1].split("\t")[:3])
    publish(site, "/tama.txt", "\n".join(rows))
    config = make_config(database_url, source_entry("tama", site.url("/tama.txt")))
    source = run_check(config, open_store(config), clock=clock()).sources[0]
    assert source.status == "baseline" and source.records == 44
    assert any("3 cells where the header has 6" in w for w in source.warnings)
