"""Families of lists: an index page whose links are the lists, each a source of its own.

Runs on SQLite and on PostgreSQL (the ``database_url`` fixture)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from monitor.runtime.check import open_store, run_check
from monitor.errors import ConfigError
from monitor.lists.families import child_id, list_title, slug, source_config
from monitor.demo.site import Route
from store.database import transaction
from store.models import Event, Snapshot, Source
from tests.conftest import TAMA, make_config, seed_text, source_entry
from tests.lists.documents import HTML, index_page
from tests.runtime.test_check import clock

INDEX = "/seisaku/tama/shien.html"
# The Tama seed is 【戦略2】; three strategies are derived from it, one slice of its rows each.
STRATEGIES = {1: (0, 15), 2: (15, 30), 3: (30, 44)}


def strategy_text(number: int) -> str:
    lines = seed_text(TAMA).split("\n")
    header = next(i for i, line in enumerate(lines) if line.startswith("施策\t"))
    rows = [line for line in lines[header + 1:] if line.strip() and not line.startswith("施策\t")]
    start, end = STRATEGIES[number]
    return "\n".join([f"【戦略{number}】 多摩の施策 その{number}", "", lines[header], *rows[start:end]])


def link(number: int, path: str | None = None, size: str = "12KB") -> tuple[str, str]:
    return path or f"/seisaku/tama/r4_strategy{number}.txt", f"【戦略{number}】地元自治体が活用できる施策（テキスト：{size}）"


@pytest.fixture
def family(site, database_url):
    for number in STRATEGIES:
        site.publish(f"/seisaku/tama/r4_strategy{number}.txt", Route(strategy_text(number).encode("utf-8")))
    site.publish(INDEX, Route(index_page([link(n) for n in STRATEGIES]), content_type=HTML))
    entry = source_entry("tama", site.url(INDEX), kind="index", link_pattern=r"戦略\d", link_id_pattern=r"戦略\s*(\d+)")
    config = make_config(database_url, entry)
    return config, open_store(config)


def test_an_index_linking_three_lists_gives_three_child_sources(family):
    config, sessions = family
    report = run_check(config, sessions, clock=clock())
    assert [(s.id, s.status, s.records) for s in report.sources] == [
        ("tama", "baseline", 3), ("tama-1", "baseline", 15), ("tama-2", "baseline", 15), ("tama-3", "baseline", 14),
    ]
    assert report.ok and not report.sources[0].lists_added
    with transaction(sessions) as session:
        children = session.scalars(select(Source).where(Source.parent_id == "tama").order_by(Source.id)).all()
        assert [(c.id, c.title, c.format) for c in children] == [
            (f"tama-{n}", f"【戦略{n}】地元自治体が活用できる施策", "text-table") for n in STRATEGIES
        ]
        assert session.scalars(select(Event.kind)).all() == []


def test_a_renamed_file_keeps_its_id_and_reports_no_change(family, site):
    config, sessions = family
    tick = clock()
    run_check(config, sessions, clock=tick)
    site.remove("/seisaku/tama/r4_strategy2.txt")
    site.publish("/seisaku/tama/r5/strategy-2.txt", Route(strategy_text(2).encode("utf-8")))
    site.publish(INDEX, Route(index_page([link(1), link(2, "/seisaku/tama/r5/strategy-2.txt", size="13KB"), link(3)]), content_type=HTML))
    report = run_check(config, sessions, clock=tick)
    assert [(s.id, s.status) for s in report.sources] == [
        ("tama", "unchanged"), ("tama-1", "not_modified"), ("tama-2", "not_modified"), ("tama-3", "not_modified"),
    ]
    assert not any(s.added or s.ended or s.changed or s.lists_added or s.lists_removed for s in report.sources)
    with transaction(sessions) as session:
        assert session.get(Source, "tama-2").url == site.url("/seisaku/tama/r5/strategy-2.txt")
        assert session.scalars(select(Event.kind)).all() == []
        # `diff` and `snapshots` find a list of an index as the index last found it.
        child = source_config(config, session, "tama-2")
        assert (child.url, child.kind, child.key_columns) == (site.url("/seisaku/tama/r5/strategy-2.txt"), "list", ["施策", "担当部署"])


def test_a_link_leaving_the_index_is_a_list_removed_event_and_its_return_a_list_added(family, site):
    config, sessions = family
    tick = clock()
    run_check(config, sessions, clock=tick)
    site.publish(INDEX, Route(index_page([link(1), link(3)]), content_type=HTML))
    report = run_check(config, sessions, clock=tick)
    index = report.sources[0]
    assert [s.id for s in report.sources] == ["tama", "tama-1", "tama-3"]
    removed = {"list_id": "tama-2", "title": "【戦略2】地元自治体が活用できる施策", "url": site.url("/seisaku/tama/r4_strategy2.txt")}
    assert (index.status, index.lists_removed, index.lists_added) == ("changed", [removed], [])
    assert not any(s.ended for s in report.sources)
    site.publish(INDEX, Route(index_page([link(n) for n in STRATEGIES]), content_type=HTML))
    back = run_check(config, sessions, clock=tick)
    assert back.sources[0].lists_added == [removed] and [s.id for s in back.sources] == ["tama", "tama-1", "tama-2", "tama-3"]
    with transaction(sessions) as session:
        events = session.scalars(select(Event).where(Event.kind.like("list_%")).order_by(Event.id)).all()
        assert [(e.kind, e.source_id, e.payload) for e in events] == [("list_removed", "tama", removed), ("list_added", "tama", removed)]
        assert session.get(Source, "tama-2").retired_at is None


def test_a_broken_index_retires_nothing_and_its_lists_still_run(family, site):
    config, sessions = family
    tick = clock()
    run_check(config, sessions, clock=tick)
    site.publish(INDEX, Route(b"<html><body><h1>\xe3\x83\xa1\xe3\x83\xb3\xe3\x83\x86\xe3\x83\x8a\xe3\x83\xb3\xe3\x82\xb9\xe4\xb8\xad</h1></body></html>", content_type=HTML))
    suspect = run_check(config, sessions, clock=tick)
    assert [(s.id, s.status) for s in suspect.sources][0] == ("tama", "suspect")
    assert suspect.sources[0].error.startswith("no link on the index page matches link_pattern")
    assert [s.id for s in suspect.sources[1:]] == ["tama-1", "tama-2", "tama-3"]
    site.remove(INDEX)
    failed = run_check(config, sessions, clock=tick)
    assert failed.sources[0].status == "failed" and len(failed.sources) == 4
    with transaction(sessions) as session:
        assert session.scalars(select(Event.kind).order_by(Event.id)).all() == ["source_suspect", "source_failed"]


@pytest.mark.parametrize("trouble", ["failed", "suspect"])
def test_an_index_in_trouble_and_back_is_one_event_each_as_for_a_list(family, site, trouble):
    config, sessions = family
    tick = clock()
    run_check(config, sessions, clock=tick)
    good = index_page([link(n) for n in STRATEGIES])
    for _ in range(2):  # trouble twice: reported when it starts, not again
        if trouble == "failed":
            site.remove(INDEX)
        else:
            site.publish(INDEX, Route(b"<html><body>maintenance</body></html>", content_type=HTML))
        assert run_check(config, sessions, clock=tick).sources[0].status == trouble
    site.publish(INDEX, Route(good, content_type=HTML))
    back = run_check(config, sessions, clock=tick)
    assert [(s.id, s.status) for s in back.sources] == [
        ("tama", "unchanged"), ("tama-1", "not_modified"), ("tama-2", "not_modified"), ("tama-3", "not_modified"),
    ]
    with transaction(sessions) as session:
        events = session.scalars(select(Event).order_by(Event.id)).all()
        assert [(e.kind, e.source_id) for e in events] == [(f"source_{trouble}", "tama"), ("source_recovered", "tama")]
        assert events[1].payload == {"after": trouble}
        # The index's snapshots are a list's: one per fetch, a good one holding the page it read.
        snapshots = session.scalars(select(Snapshot).where(Snapshot.source_id == "tama").order_by(Snapshot.id)).all()
        assert [s.status for s in snapshots] == ["baseline", trouble, trouble, "unchanged"]
        assert snapshots[-1].blob_sha256 == snapshots[0].blob_sha256 and snapshots[-1].record_count == 3
        assert session.get(Source, "tama").format == "index"


def test_an_index_losing_most_of_its_lists_at_once_is_suspect(family, site):
    config, sessions = family
    tick = clock()
    run_check(config, sessions, clock=tick)
    site.publish(INDEX, Route(index_page([link(1)]), content_type=HTML))
    report = run_check(config, sessions, clock=tick).sources[0]
    assert report.status == "suspect" and report.error == "2 of the 3 lists left the index at once: more than 50% (guard.max_loss_share)"


def test_ids_come_from_the_link_text_without_file_notes():
    assert list_title("【戦略2】人・モノ・情報の自由自在な交流を実現（PDF：245KB）") == "【戦略2】人・モノ・情報の自由自在な交流を実現"
    assert list_title("List of measures [Excel 30KB] (1.2MB)") == "List of measures"
    assert child_id("tama", "【戦略２】人・モノ", r"戦略\s*(\d+)") == "tama-2"
    assert child_id("tama", "Strategy 2 measures", None) == "tama-strategy-2-measures"
    japanese = child_id("tama", "地元自治体が活用できる施策", None)
    assert japanese == child_id("tama", "地元自治体が活用できる施策（PDF：1MB）".replace("（PDF：1MB）", ""), None)
    assert japanese.startswith("tama-") and len(slug("地元自治体が活用できる施策")) == 8
    assert slug("戦略2 施策") != slug("戦略3 施策") and slug("戦略2 施策").startswith("2-")
    assert len(slug("a very long english title of a list of measures")) <= 28


@pytest.mark.parametrize(("overrides", "message"), [
    ({"kind": "index"}, "needs link_pattern"),
    ({"kind": "index", "link_pattern": "戦略("}, "link_pattern: not a regular expression"),
    ({"link_pattern": "戦略"}, "are for `kind: index` sources"),
    ({"kind": "folder"}, "kind"),
])
def test_bad_index_settings_are_refused_when_the_config_loads(overrides, message):
    with pytest.raises(ConfigError, match=message):
        make_config("sqlite://", source_entry("tama", "https://example.lg.jp/shien.html", **overrides))


def test_checking_one_list_of_an_index_runs_its_index(family):
    config, sessions = family
    run_check(config, sessions, clock=clock())
    report = run_check(config, sessions, source_ids=["tama-2", "tama-3"], clock=clock())
    assert [s.id for s in report.sources] == ["tama", "tama-1", "tama-2", "tama-3"]
    with pytest.raises(ConfigError, match="no source with id 'tama-9'"):
        run_check(config, sessions, source_ids=["tama-9"], clock=clock())
