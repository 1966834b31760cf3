"""End to end through the pipeline: loopback site → fetch → parse → match → diff → store.

Runs once on SQLite and once on PostgreSQL (the ``database_url`` fixture)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from monitor.runtime.check import open_store, run_check
from monitor.demo.site import Route
from monitor.lists.views import diff_snapshots, history_of
from store.database import transaction
from store.models import Blob, Event, Link, Measure, MeasureVersion, Snapshot
from store.queries import list_size
from tests.conftest import NATIONWIDE, TAMA, make_config, seed_text, source_entry
from tests.versions import derive, insert_row, move_row, page_break_before, remove_row, set_cell

T0 = datetime(2026, 4, 1, 0, 0, tzinfo=timezone.utc)
NAME, DEPT, PHONE, URL, REMARK = 0, 2, 3, 4, 5


def clock(start: datetime = T0):
    moments = iter(start + timedelta(minutes=i) for i in range(10_000))
    return lambda: next(moments)


def publish(site, path: str, text: str, encoding: str = "utf-8") -> None:
    site.publish(path, Route(text.encode(encoding), content_type="text/plain"))


def count(sessions, model) -> int:
    with transaction(sessions) as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def tama(site, database_url):
    publish(site, "/tama.txt", seed_text(TAMA))
    config = make_config(database_url, source_entry("tama", site.url("/tama.txt")))
    sessions = open_store(config)
    return config, sessions


def test_first_run_is_a_baseline_with_every_measure_and_no_changes(tama):
    config, sessions = tama
    report = run_check(config, sessions, clock=clock())
    (source,) = report.sources
    assert source.status == "baseline"
    assert source.records == 44
    assert not (source.added or source.ended or source.changed or source.renamed or source.expired)
    assert count(sessions, Measure) == 44
    assert count(sessions, Event) == 0


def test_unchanged_second_run_adds_no_blob_and_no_version(tama):
    config, sessions = tama
    tick = clock()
    run_check(config, sessions, clock=tick)
    blobs, versions = count(sessions, Blob), count(sessions, MeasureVersion)
    report = run_check(config, sessions, clock=tick)
    assert report.sources[0].status in ("unchanged", "not_modified")
    assert (count(sessions, Blob), count(sessions, MeasureVersion)) == (blobs, versions)
    assert count(sessions, Snapshot) == 2


def test_conditional_get_gives_not_modified(tama, site):
    config, sessions = tama
    tick = clock()
    run_check(config, sessions, clock=tick)
    assert run_check(config, sessions, clock=tick).sources[0].status == "not_modified"


def test_revision_reports_each_kind_of_change_exactly(tama, site):
    config, sessions = tama
    tick = clock()
    run_check(config, sessions, clock=tick)
    v2 = derive(
        seed_text(TAMA),
        set_cell(NAME, "多摩の魅力発信プロジェクト", NAME, "多摩の魅力発信プロジェクト（旧：多摩PR事業）"),
        set_cell(NAME, "多様な主体との連携活動促進補助金", PHONE, "03-5388-9999"),
        set_cell(NAME, "多摩ニュータウン地域再生検討", URL, "https://www.toshiseibi.metro.tokyo.lg.jp/bunyabetsu/machizukuri/tamanew.html"),
        remove_row(NAME, "まちづくり推進コンシェルジュ"),
        insert_row(NAME, "市町村土木補助事業", ["多摩地域防災力強化事業", "地域の防災力を高める。", "総務局 総合防災部 防災計画課", "03-5388-2453", "", "令和10年度まで"]),
        move_row(NAME, "パーク・ストリート東京", NAME, "地域を主体とするスマート東京先進事例創出事業"),
        page_break_before(NAME, "土地区画整理事業", header_row=4),
    )
    publish(site, "/tama.txt", v2)
    source = run_check(config, sessions, clock=tick).sources[0]
    assert source.status == "changed"
    assert [c.name for c in source.added] == ["多摩地域防災力強化事業"]
    assert [c.name for c in source.ended] == ["まちづくり推進コンシェルジュ"]
    (renamed,) = source.renamed
    assert renamed.old_name == "多摩の魅力発信プロジェクト" and renamed.new_name == "多摩の魅力発信プロジェクト(旧:多摩PR事業)"
    changed = {c.name: c.fields for c in source.changed}
    assert changed == {
        "多様な主体との連携活動促進補助金": {"連絡先": {"old": "03-5388-2443", "new": "03-5388-9999"}},
        "多摩ニュータウン地域再生検討": {"URL": {
            "old": "https://www.toshisei.metro.tokyo.lg.jp/bunvabetsu/machizukuri/tamanew.html",
            "new": "https://www.toshiseibi.metro.tokyo.lg.jp/bunyabetsu/machizukuri/tamanew.html"}},
    }
    with transaction(sessions) as session:
        kinds = sorted(session.scalars(select(Event.kind)))
        assert kinds == ["added", "changed", "changed", "ended", "renamed"]
        new_link = session.scalar(select(Link).where(Link.url.like("%toshiseibi%tamanew%")))
        assert new_link is not None and new_link.cited


def test_end_date_passing_is_reported_once_as_expired(site, database_url):
    publish(site, "/tama.txt", seed_text(TAMA))
    config = make_config(database_url, source_entry("tama", site.url("/tama.txt")))
    sessions = open_store(config)
    # 令和8年度まで ends 2027-03-31; the baseline is taken before, the second run after.
    run_check(config, sessions, clock=clock(datetime(2027, 3, 1, tzinfo=timezone.utc)))
    later = clock(datetime(2027, 4, 2, tzinfo=timezone.utc))
    expired = run_check(config, sessions, clock=later).sources[0].expired
    names = {c.name: c.end_date for c in expired}
    assert names["第三次みちづくり・まちづくりパートナー事業"] == "2027-03-31"
    assert names["地域公共交通の充実・強化"] == "2027-03-31"
    assert "自転車活用推進重点地区" not in names  # 2030年度まで
    assert run_check(config, sessions, clock=later).sources[0].expired == []


def test_duplicate_names_stay_distinct_and_reordering_them_changes_nothing(tama, site):
    config, sessions = tama
    tick = clock()
    run_check(config, sessions, clock=tick)
    v2 = derive(seed_text(TAMA), move_row(NAME, "燃料電池バス導入促進事業", NAME, "地域を主体とするスマート東京先進事例創出事業"))
    publish(site, "/tama.txt", v2)
    assert run_check(config, sessions, clock=tick).sources[0].status == "unchanged"
    with transaction(sessions) as session:
        assert session.scalar(select(func.count()).select_from(Measure).where(Measure.name == "燃料電池バス導入促進事業")) == 2


def test_department_move_of_one_duplicate_is_a_change_not_end_and_add(tama, site):
    config, sessions = tama
    tick = clock()
    run_check(config, sessions, clock=tick)
    v2 = derive(seed_text(TAMA), set_cell(NAME, "充電設備普及促進事業", DEPT, "環境局 気候変動対策部 地域エネルギー課", occurrence=1))
    publish(site, "/tama.txt", v2)
    source = run_check(config, sessions, clock=tick).sources[0]
    assert not source.added and not source.ended
    assert [list(c.fields) for c in source.changed] == [["担当部署"]]


def test_row_numbers_shifting_after_an_insert_are_not_changes(site, database_url):
    publish(site, "/nationwide.txt", seed_text(NATIONWIDE))
    config = make_config(database_url, source_entry("nationwide", site.url("/nationwide.txt")))
    sessions = open_store(config)
    tick = clock()
    first = run_check(config, sessions, clock=tick).sources[0]
    assert first.records == 79 and first.edition == "令和4年4月1日時点"
    rows = seed_text(NATIONWIDE).split("\n")
    new_row = "\t".join(["2", "総務局", "防災", "新規", "新しい連携事業", "全国", "-", "内容", ""])
    renumbered = [rows[i] for i in range(6)] + [new_row]
    for line in rows[6:]:
        cells = line.split("\t")
        if cells[0].isdigit():
            cells[0] = str(int(cells[0]) + 1) if int(cells[0]) >= 2 else cells[0]
        renumbered.append("\t".join(cells))
    publish(site, "/nationwide.txt", "\n".join(renumbered))
    source = run_check(config, sessions, clock=tick).sources[0]
    assert [c.name for c in source.added] == ["新しい連携事業"]
    assert source.changed == [] and source.renamed == [] and source.ended == []


def test_history_and_diff_between_any_two_snapshots(tama, site):
    config, sessions = tama
    tick = clock()
    first = run_check(config, sessions, clock=tick).sources[0].snapshot_id
    publish(site, "/tama.txt", derive(seed_text(TAMA), set_cell(NAME, "多様な主体との連携活動促進補助金", PHONE, "03-0000-0001")))
    run_check(config, sessions, clock=tick)
    publish(site, "/tama.txt", derive(seed_text(TAMA), set_cell(NAME, "多様な主体との連携活動促進補助金", PHONE, "03-0000-0002"), remove_row(NAME, "市街地再開発事業")))
    last = run_check(config, sessions, clock=tick).sources[0].snapshot_id
    with transaction(sessions) as session:
        measure_id = session.scalar(select(Measure.id).where(Measure.name == "多様な主体との連携活動促進補助金"))
        history = history_of(session, measure_id)
        phones = [v["fields"]["連絡先"] for v in history.versions]
        assert phones == ["03-5388-2443", "03-0000-0001", "03-0000-0002"]
        assert history.versions[2]["changes"] == {"連絡先": {"old": "03-0000-0001", "new": "03-0000-0002"}}
        diff = diff_snapshots(session, config.source("tama"), first, last)
        assert [c.name for c in diff.ended] == ["市街地再開発事業"]
        assert diff.changed[0].fields == {"連絡先": {"old": "03-5388-2443", "new": "03-0000-0002"}}


def test_list_as_it_stood_on_a_date(tama, site):
    config, sessions = tama
    run_check(config, sessions, clock=clock(T0))
    publish(site, "/tama.txt", derive(seed_text(TAMA), remove_row(NAME, "市街地再開発事業")))
    run_check(config, sessions, clock=clock(T0 + timedelta(days=30)))
    with transaction(sessions) as session:
        before = list_size(session, "tama", T0 + timedelta(days=1))
        after = list_size(session, "tama", T0 + timedelta(days=31))
    assert before == 44 and after == 43


def test_a_measure_that_ends_and_comes_back_reappears_as_itself(site, tama):
    config, sessions = tama
    tick = clock()
    run_check(config, sessions, clock=tick)
    publish(site, "/tama.txt", derive(seed_text(TAMA), remove_row(NAME, "まちづくり推進コンシェルジュ")))
    (ended,) = run_check(config, sessions, clock=tick).sources[0].ended
    publish(site, "/tama.txt", seed_text(TAMA))
    source = run_check(config, sessions, clock=tick).sources[0]
    assert [c.measure_id for c in source.reappeared] == [ended.measure_id]
    assert not (source.added or source.ended or source.changed)
    with transaction(sessions) as session:
        assert session.get(Measure, ended.measure_id).ended_at is None
    assert count(sessions, Measure) == 44


def test_a_list_that_breaks_its_parser_fails_alone_and_the_others_still_run(site, database_url, monkeypatch):
    # A bug no stage expected (here injected into the text-table parser for one URL) used to end
    # the whole run: the lists after it were never fetched.
    from dataclasses import replace

    from monitor.lists import parsers

    publish(site, "/broken.txt", seed_text(TAMA))
    publish(site, "/tama.txt", seed_text(TAMA))
    good = parsers.get_format("text-table")

    def breaks_on_one_url(document, options):
        if document.url.endswith("/broken.txt"):
            raise IndexError("list index out of range")
        return good.parse(document, options)

    monkeypatch.setitem(parsers._REGISTRY, "text-table", replace(good, parse=breaks_on_one_url))
    config = make_config(database_url, source_entry("broken", site.url("/broken.txt")), source_entry("tama", site.url("/tama.txt")))
    sessions = open_store(config)
    report = run_check(config, sessions, clock=clock(), links=False, notify=False)
    by_id = {source.id: source for source in report.sources}
    assert by_id["broken"].status == "failed" and by_id["broken"].error == "IndexError: list index out of range"
    assert by_id["tama"].status == "baseline" and by_id["tama"].records > 0
