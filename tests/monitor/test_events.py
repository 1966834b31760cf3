"""One vocabulary of events: kinds as stored, one typed payload each, one label each."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from monitor import events
from monitor.events import KINDS, EventKind, EventView, LinkOutcome, read_payload
from monitor.labels import LANGUAGES, kind_label, outcome_label
from notifiers.digest import build_digest
from store.models import Event
from web.events import event_view
from web.labels import labels_for

NOW = datetime(2026, 4, 1, tzinfo=timezone.utc)
TOKYO = ZoneInfo("Asia/Tokyo")
CITING = [{"id": 7, "name": "多摩の魅力発信", "source_id": "tama"}]

# Payloads exactly as the writers have stored them since the first release: keys and shapes.
STORED = {
    "source_failed": {"error": "HTTP 500", "since": "2026-04-01T00:00:00+00:00"},
    "source_suspect": {"error": "0 rows"},
    "source_recovered": {"after": "failed"},
    "edition_changed": {"old_edition": "令和7年4月1日時点", "new_edition": "令和8年4月1日時点", "as_of": "2026-04-01"},
    "list_added": {"list_id": "tama-1", "title": "【戦略1】", "url": "https://example.jp/1.html"},
    "list_removed": {"list_id": "tama-2", "title": "【戦略2】", "url": "https://example.jp/2.html"},
    "column_renamed": {"old_column": "備考", "new_column": "留意事項", "stored_as": "備考"},
    "rekeyed": {"measures": 44, "keys_changed": 44, "names_changed": 0, "key_columns": "施策 + 担当部署", "name_column": "施策", "unpaired": 0},
    "added": {"measure_id": 1, "key": "k", "name": "補助事業", "fields": {"施策": "補助事業"}},
    "ended": {"measure_id": 1, "key": "k", "name": "補助事業"},
    "expired": {"measure_id": 1, "key": "k", "name": "補助事業", "end_date": "2026-03-31"},
    "renamed": {"measure_id": 1, "key": "k", "name": "新事業", "fields": {"施策": {"old": "旧事業", "new": "新事業"}},
                "old_name": "旧事業", "new_name": "新事業"},
    "changed": {"measure_id": 1, "key": "k", "name": "補助事業", "fields": {"連絡先": {"old": "03-1", "new": "03-2"}}},
    "reappeared": {"measure_id": 1, "key": "k", "name": "補助事業", "fields": {"所管局": {"old": "旧局", "new": "新局"}}},
    "links_outage": {"failed_hosts": 6, "checked_hosts": 7, "links": 40, "error": "cannot connect: refused", "canary_url": None},
    "link_dead": {"url": "https://example.jp/a", "outcome": "soft_404", "http_status": 200, "since": "2026-03-30T00:00:00+00:00",
                  "measures": CITING},
    "link_moved": {"url": "https://example.jp/a", "final_url": "https://example.jp/b", "http_status": 301, "measures": CITING},
    "link_recovered": {"url": "https://example.jp/a", "outcome": "ok", "http_status": 200, "dead_since": None, "measures": CITING},
    "page_changed": {"url": "https://example.jp/a", "measures": CITING, "summary": "旧 → 新"},
}


def test_kinds_are_the_strings_the_database_holds() -> None:
    assert [kind.value for kind in KINDS] == list(STORED)
    assert set(EventKind) == set(KINDS)


@pytest.mark.parametrize("kind", list(STORED))
def test_a_stored_payload_reads_typed_and_writes_back_the_same_keys(kind: str) -> None:
    data = read_payload(kind, STORED[kind])
    assert type(data).kind == kind
    assert data.to_payload() == STORED[kind]


def test_old_or_odd_rows_read_as_empty_values_never_an_error() -> None:
    renamed = read_payload("renamed", {"name": "新事業", "old_name": "旧事業"})  # written before new_name was stored
    assert isinstance(renamed, events.Renamed) and renamed.new_name == "新事業" and renamed.fields == {}
    dead = read_payload("link_dead", {"url": ["not", "text"], "http_status": "200", "measures": [1, {"id": "x"}]})
    assert isinstance(dead, events.LinkDead)
    assert (dead.url, dead.http_status, dead.measures) == ("", None, (events.CitingMeasure(None, "", None),))
    assert isinstance(read_payload("changed", None), events.ChangedFields)
    back = read_payload("reappeared", {"measure_id": 1, "key": "k", "name": "補助事業"})  # written before its fields were
    assert isinstance(back, events.Reappeared) and back.fields == {}
    unknown = read_payload("measure_merged", {"name": "x"})
    assert isinstance(unknown, events.Unknown) and unknown.kind == "measure_merged"


def test_every_kind_and_outcome_has_a_label_in_every_language() -> None:
    for language in LANGUAGES:
        assert all(kind_label(kind, language) != kind for kind in KINDS)
        assert all(outcome_label(outcome, language) != outcome for outcome in LinkOutcome)


@pytest.mark.parametrize("language", LANGUAGES)
def test_soft_404_reads_the_same_in_the_digest_and_on_the_web(language: str) -> None:
    label = outcome_label("soft_404", language)
    digest = build_digest("team", [EventView(1, "link_dead", NOW, STORED["link_dead"], link_id=3)], now=NOW, language=language)
    facts = [fact.value for source in digest.sources for group in source.kinds for entry in group.entries for fact in entry.facts]
    assert label in facts
    t = labels_for(language)  # type: ignore[arg-type]
    row = Event(id=1, kind="link_dead", created_at=NOW, link_id=3, payload=STORED["link_dead"])
    assert any(label in line for line in event_view(row, {}, t, TOKYO).details)
    assert t.outcome_label("soft_404") == label
    assert digest.sources[0].kinds[0].label == t.kind_label("link_dead") == kind_label("link_dead", language)
