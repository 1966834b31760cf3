"""A column renamed between editions (備考 → 留意事項) is one ``column_renamed`` event, not a
wave of ``changed``, and a configured column renamed never leaves the list suspect: pure
rules first, then end to end through the loopback site on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from monitor.demo.site import Route
from monitor.errors import ConfigError
from monitor.events import EventView
from monitor.lists.columns import aliases_in_effect, apply_aliases, detect_renames
from monitor.lists.records import ParsedList, Record
from monitor.runtime.check import open_store, run_check
from notifiers.digest import build_digest
from store.database import transaction
from store.models import Event, MeasureVersion
from tests.conftest import TAMA, make_config, seed_text, source_entry
from tests.versions import derive, set_cell
from web.events import event_view
from web.labels import labels_for

T0 = datetime(2026, 4, 1, tzinfo=timezone.utc)
NAME, PHONE = 0, 3
CONCIERGE = "まちづくり推進コンシェルジュ"


def listed(columns: list[str], rows: list[list[str]]) -> ParsedList:
    return ParsedList(columns=list(columns), records=[Record(dict(zip(columns, row))) for row in rows])


def test_configured_aliases_win_over_learned_ones_and_chains_end_at_the_stored_name():
    assert aliases_in_effect({}, {"留意事項": "備考", "注意事項": "留意事項"}) == {"留意事項": "備考", "注意事項": "備考"}
    assert aliases_in_effect({"備考": "留意事項"}, {"留意事項": "備考"}) == {"備考": "留意事項"}
    assert aliases_in_effect({"ＵＲＬ": "URL"}, {}) == {}  # the header is read normalised: ＵＲＬ is URL already


def test_an_aliased_column_is_read_under_its_name_unless_the_header_has_both():
    parsed = apply_aliases(listed(["施策", "留意事項"], [["A事業", "令和8年度まで"]]), {"留意事項": "備考"})
    assert parsed.columns == ["施策", "備考"] and parsed.records[0].cells == {"施策": "A事業", "備考": "令和8年度まで"}
    both = apply_aliases(listed(["備考", "留意事項"], [["x", "y"]]), {"留意事項": "備考"})
    assert both.columns == ["備考", "留意事項"] and "header has both" in both.warnings[0]


def test_the_urls_behind_an_aliased_cell_follow_it():
    parsed = listed(["施策", "ホームページ"], [])
    parsed.records = [Record({"施策": "A事業", "ホームページ": "案内"}, "row 2", {"ホームページ": ["https://example.jp/a"]})]
    (record,) = apply_aliases(parsed, {"ホームページ": "URL"}).records
    assert record.cells == {"施策": "A事業", "URL": "案内"} and record.links == {"URL": ["https://example.jp/a"]}
    assert record.line == "row 2"


def test_a_header_replaced_over_the_same_values_is_a_rename_other_columns_are_not():
    stored = {"施策": Counter({"A事業": 1, "B事業": 1}), "備考": Counter({"令和8年度まで": 1, "共管": 1})}
    parsed = listed(["施策", "留意事項", "所管"], [["A事業", "令和8年度まで", "総務局"], ["B事業", "共管", "財務局"]])
    assert detect_renames(stored, parsed) == {"留意事項": "備考"}
    edited = listed(["施策", "留意事項"], [["A事業", "令和9年度まで"], ["B事業", "単独"]])
    assert detect_renames(stored, edited) == {}


def publish(site, text: str) -> None:
    site.publish("/tama.txt", Route(text.encode("utf-8"), content_type="text/plain"))


def renamed_header(text: str, old: str, new: str) -> str:
    lines = text.split("\n")
    (index,) = [i for i, line in enumerate(lines) if line.startswith("施策\t")]
    lines[index] = "\t".join(new if cell == old else cell for cell in lines[index].split("\t"))
    return "\n".join(lines)


def run(config, sessions, day: int):
    return run_check(config, sessions, clock=lambda: T0 + timedelta(days=day)).sources[0]


def kinds(sessions) -> list[str]:
    with transaction(sessions) as session:
        return list(session.scalars(select(Event.kind).order_by(Event.id)))


@pytest.fixture
def tama(site, database_url):
    def start(**overrides):
        publish(site, seed_text(TAMA))
        config = make_config(database_url, source_entry("tama", site.url("/tama.txt"), **overrides))
        sessions = open_store(config)
        assert run(config, sessions, 0).status == "baseline"
        return config, sessions
    return site, start


def test_a_renamed_remarks_column_is_one_event_and_stays_stored_as_before(tama):
    site, start = tama
    config, sessions = start()  # 備考 is an end_date_column: its loss would make the list suspect
    edition = derive(seed_text(TAMA), set_cell(NAME, CONCIERGE, PHONE, "03-5388-2444"))
    publish(site, renamed_header(edition, "備考", "留意事項"))
    source = run(config, sessions, 1)
    assert source.status == "changed"
    assert source.columns_renamed == [{"old_column": "備考", "new_column": "留意事項", "stored_as": "備考"}]
    assert [c.fields for c in source.changed] == [{"連絡先": {"old": "03-5388-2443", "new": "03-5388-2444"}}]
    assert not (source.added or source.ended or source.renamed)
    assert kinds(sessions) == ["changed", "column_renamed"]
    with transaction(sessions) as session:
        newest = session.scalars(select(MeasureVersion).order_by(MeasureVersion.id.desc()).limit(1)).one()
        assert "備考" in newest.fields and "留意事項" not in newest.fields
    publish(site, renamed_header(edition, "備考", "留意事項") + "\n")  # read again, not a 304: the rename is remembered
    again = run(config, sessions, 2)
    assert again.status == "unchanged" and kinds(sessions) == ["changed", "column_renamed"]
    publish(site, renamed_header(derive(edition, set_cell(NAME, CONCIERGE, PHONE, "03-5388-2445")), "備考", "留意事項"))
    later = run(config, sessions, 3)
    assert [c.fields for c in later.changed] == [{"連絡先": {"old": "03-5388-2444", "new": "03-5388-2445"}}]


def test_a_renamed_key_column_is_never_suspect(tama):
    site, start = tama
    config, sessions = start()
    publish(site, renamed_header(seed_text(TAMA), "担当部署", "所管部署"))
    source = run(config, sessions, 1)
    assert source.status == "changed" and not (source.added or source.ended or source.changed)
    assert kinds(sessions) == ["column_renamed"]


def test_a_configured_alias_reads_the_new_header_quietly_even_with_its_values_edited(tama):
    site, start = tama
    config, sessions = start(column_aliases={"留意事項": "備考"})
    edition = derive(seed_text(TAMA), set_cell(NAME, CONCIERGE, 5, "令和9年度まで"))
    publish(site, renamed_header(edition, "備考", "留意事項"))
    source = run(config, sessions, 1)
    assert [c.fields for c in source.changed] == [{"備考": {"old": "", "new": "令和9年度まで"}}]
    assert source.columns_renamed == [] and kinds(sessions) == ["changed"]


def test_a_configuration_that_adopts_the_new_name_reads_the_stored_versions_under_it(tama):
    site, start = tama
    config, sessions = start()
    publish(site, renamed_header(seed_text(TAMA), "備考", "留意事項"))
    adopted = make_config(config.database.url, source_entry("tama", site.url("/tama.txt"), end_date_columns=["留意事項"],
                                                            column_aliases={"備考": "留意事項"}))
    source = run(adopted, sessions, 1)
    assert source.status == "unchanged" and kinds(sessions) == []


def test_the_digest_and_the_web_show_the_old_and_new_header():
    view = EventView(1, "column_renamed", T0, {"old_column": "備考", "new_column": "留意事項", "stored_as": "備考"}, source_id="tama")
    digest = build_digest("team", [view], now=T0, language="ja")
    (entry,) = [e for s in digest.sources for g in s.kinds for e in g.entries]
    assert [(c.column, c.old, c.new) for c in entry.changes] == [("列名", "備考", "留意事項")]
    row = Event(id=1, kind="column_renamed", created_at=T0, source_id="tama", payload=view.payload)
    shown = event_view(row, {"tama": "多摩のまちづくり 戦略2"}, labels_for("ja"), ZoneInfo("Asia/Tokyo"))
    assert shown.summary == "列名の変更 (多摩のまちづくり 戦略2): 備考 → 留意事項"


def test_an_alias_without_a_name_is_refused_at_its_key():
    with pytest.raises(ConfigError, match=r"sources\[0\]\.column_aliases: each entry is 'header as published: name it is read as'"):
        make_config("sqlite://", source_entry("tama", "https://example.jp/tama.txt", column_aliases={"留意事項": " "}))
