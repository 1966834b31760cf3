"""A measure dropped in one edition and back in a later one, under a renamed bureau (its key
changed), is the same measure ``reappeared``, with what differs; pure pairing first, then
end to end through the loopback site on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from rich.console import Console
from sqlalchemy import select

from monitor.cli.textreport import print_source_changes
from monitor.events import Reappeared, read_payload
from monitor.lists.identity import Entry
from monitor.lists.reappear import Gone, reappearing
from monitor.lists.views import history_of
from monitor.runtime.check import open_store, run_check
from monitor.demo.site import Route
from store.database import transaction
from store.models import Event, Measure
from tests.conftest import TAMA, make_config, seed_text, source_entry
from tests.versions import derive, remove_row, set_cell

T0 = datetime(2026, 4, 1, tzinfo=timezone.utc)
NAME, DEPT = 0, 2
CONCIERGE = "まちづくり推進コンシェルジュ"
OLD_DEPT, NEW_DEPT = "総務局 行政部 振興企画課", "総務局 自治体支援部 振興企画課"


def entry(name: str, dept: str) -> Entry:
    return Entry(f"{name} | {dept}", name, f"{dept} 市町村からの相談を一元的に受け付ける 03-5388-2443")


def test_an_added_entry_like_an_ended_one_is_that_measure():
    gone = [Gone(7, entry(CONCIERGE, OLD_DEPT))]
    added = {0: entry("全く新しい補助事業", "産業労働局"), 1: entry(CONCIERGE, NEW_DEPT)}
    assert reappearing(added, gone, 70.0) == {1: 7}


def test_an_unlike_entry_is_a_new_measure():
    # An end older than the window is never a candidate: test_a_measure_back_after_the_window_is_added.
    gone = [Gone(7, entry(CONCIERGE, OLD_DEPT))]
    assert reappearing({0: entry("燃料電池トラック実装支援事業", "環境局")}, gone, 70.0) == {}


def test_each_ended_measure_returns_once_the_most_alike_first():
    gone = [Gone(7, entry(CONCIERGE, OLD_DEPT))]
    added = {0: entry(CONCIERGE + "(多摩)", "総務局 自治体支援部 多摩振興課"), 1: entry(CONCIERGE, NEW_DEPT)}
    assert reappearing(added, gone, 70.0) == {1: 7}


def publish(site, text: str) -> None:
    site.publish("/tama.txt", Route(text.encode("utf-8"), content_type="text/plain"))


@pytest.fixture
def tama(site, database_url):
    publish(site, seed_text(TAMA))
    config = make_config(database_url, source_entry("tama", site.url("/tama.txt")))
    return config, open_store(config), site


def at(moment: datetime):
    return lambda: moment


def drop_then_return(tama, back_after_days: int):
    config, sessions, site = tama
    run_check(config, sessions, clock=at(T0))
    publish(site, derive(seed_text(TAMA), remove_row(NAME, CONCIERGE)))
    (ended,) = run_check(config, sessions, clock=at(T0 + timedelta(days=1))).sources[0].ended
    publish(site, derive(seed_text(TAMA), set_cell(NAME, CONCIERGE, DEPT, NEW_DEPT)))
    return ended, run_check(config, sessions, clock=at(T0 + timedelta(days=1 + back_after_days))).sources[0]


def test_a_measure_back_under_its_renamed_bureau_reappears_with_its_history(tama):
    config, sessions, _ = tama
    ended, source = drop_then_return(tama, 300)
    assert not source.added
    (back,) = source.reappeared
    assert back.measure_id == ended.measure_id
    assert back.fields == {"担当部署": {"old": OLD_DEPT, "new": NEW_DEPT}}
    with transaction(sessions) as session:
        measure = session.get(Measure, ended.measure_id)
        assert measure.ended_at is None and measure.key == f"{CONCIERGE} | {NEW_DEPT}"
        assert [v["fields"]["担当部署"] for v in history_of(session, measure.id).versions] == [OLD_DEPT, NEW_DEPT]
        row = session.scalars(select(Event).where(Event.kind == "reappeared")).one()
        data = read_payload(row.kind, row.payload)
        assert isinstance(data, Reappeared) and data.fields["担当部署"].new == NEW_DEPT


def test_the_text_report_shows_what_differs_in_a_measure_back(tama):
    _, source = drop_then_return(tama, 30)
    console = Console(record=True, width=200)
    print_source_changes(console, source)
    assert f"担当部署: {OLD_DEPT!r} → {NEW_DEPT!r}" in console.export_text()


def test_a_measure_back_after_the_window_is_added(tama):
    _, source = drop_then_return(tama, 401)
    assert not source.reappeared
    assert [c.name for c in source.added] == [CONCIERGE]
