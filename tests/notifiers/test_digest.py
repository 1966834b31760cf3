"""build_digest: grouping, counts, details per kind, links only where they lead somewhere."""

from __future__ import annotations

from datetime import datetime

import pytest

from monitor.errors import ConfigError
from notifiers.digest import Digest, Entry, build_digest, idempotency_key
from monitor.events import EventView
from tests.notifiers.samples import LONG_NEW, LONG_OLD, NATION, NOW, TAMA, all_kinds, counted_events, event

BASE = "https://monitor.example.jp/"


def entries(digest: Digest, kind: str) -> list[Entry]:
    return [e for s in digest.sources for g in s.kinds if g.kind == kind for e in g.entries]


def test_counts_come_in_kind_order_with_the_total() -> None:
    digest = build_digest("team", counted_events(), now=NOW)
    assert [(c.label, c.count) for c in digest.counts] == [("追加", 3), ("終了", 1), ("リンク切れ", 2)]
    assert digest.total == 6 and digest.should_send


def test_events_group_by_source_then_kind_and_link_events_follow_their_measures() -> None:
    digest = build_digest("team", all_kinds(), now=NOW)
    titles = [s.title for s in digest.sources]
    # link_moved cites measures of two lists: it goes to the shared group, last.
    assert titles == [TAMA[1], NATION[1], "その他（複数の一覧）"]
    tama = digest.sources[0]
    assert [g.kind for g in tama.kinds] == [
        "source_suspect",
        "source_recovered",
        "expired",
        "changed",
        "reappeared",
        "link_recovered",
        "page_changed",
    ]
    assert [g.kind for g in digest.sources[2].kinds] == ["link_moved"]


def test_short_changes_are_old_and_new_and_long_ones_a_word_diff() -> None:
    (changed,) = entries(build_digest("team", all_kinds(), now=NOW), "changed")
    budget, summary = changed.changes
    assert (budget.column, budget.old, budget.new, budget.diff) == ("予算", "100", "120", None)
    assert (summary.old, summary.new) == (LONG_OLD, LONG_NEW)
    assert summary.diff is not None and {r.op for r in summary.diff} == {"equal", "delete", "insert"}


def test_each_kind_carries_its_details() -> None:
    digest = build_digest("team", all_kinds(), now=NOW, base_url=BASE)
    (renamed,) = entries(digest, "renamed")
    assert renamed.title == "新名称"
    assert [(c.column, c.old, c.new) for c in renamed.changes] == [
        ("名称", "旧名称", "新名称"),
        ("所管", "総務局", "政策企画局"),
    ]
    (expired,) = entries(digest, "expired")
    assert [(f.label, f.value) for f in expired.facts] == [("終了日", "2024-03-31")]
    (moved,) = entries(digest, "link_moved")
    assert moved.facts[0].value == moved.facts[0].url == "https://www.metro.tokyo.lg.jp/a"
    assert [m.url for m in moved.measures] == [BASE + "measures/12", BASE + "measures/13"]
    (failed,) = entries(digest, "source_failed")
    # Times are shown in Japan time: 22:00 UTC is 07:00 the next morning in Tokyo.
    assert [(f.label, f.value) for f in failed.facts] == [
        ("エラー", "HTTP 503 Service Unavailable"),
        ("発生日時", "2024-05-01 07:00 (JST)"),
    ]
    (edition,) = entries(digest, "edition_changed")
    assert (edition.changes[0].old, edition.changes[0].new) == ("令和5年4月1日時点", "令和6年4月1日時点")


def test_dead_link_says_since_when_and_which_measures() -> None:
    digest = build_digest("team", counted_events(), now=NOW, base_url=BASE)
    dead = entries(digest, "link_dead")[0]
    assert dead.title == "https://www.metro.tokyo.jp/gone.html"
    assert dead.url == BASE + "links/7"  # our page about it, not the dead URL
    assert ("発生日時", "2024-04-30 10:00 (JST)") in [(f.label, f.value) for f in dead.facts]
    assert [m.name for m in dead.measures] == ["多摩の森林再生事業"]


def test_without_base_url_nothing_links_to_the_web_view() -> None:
    digest = build_digest("team", all_kinds() + counted_events(), now=NOW)
    for source in digest.sources:
        assert source.url is None
        for group in source.kinds:
            for entry in group.entries:
                assert entry.url is None or not entry.url.startswith(BASE)
                assert all(m.url is None for m in entry.measures)


def test_only_http_urls_become_links() -> None:
    digest = build_digest("team", counted_events(), now=NOW)
    # The dead links are https://… and javascript:…: neither is clickable, no base_url.
    assert [e.url for e in entries(digest, "link_dead")] == [None, None]
    with pytest.raises(ConfigError, match="base_url must be an http"):
        build_digest("team", [], now=NOW, base_url="javascript:alert(1)")


def test_english_labels() -> None:
    digest = build_digest("team", counted_events(), now=NOW, language="en")
    assert [c.label for c in digest.counts] == ["Added", "Ended", "Link dead"]
    assert digest.labels["total"] == "Total"


def test_no_events_is_an_empty_digest_sent_only_when_asked() -> None:
    assert not build_digest("team", [], now=NOW).should_send
    quiet = build_digest("team", [], now=NOW, all_quiet=True)
    assert quiet.is_empty and quiet.should_send and quiet.sources == ()


def test_an_unknown_kind_is_shown_not_dropped() -> None:
    digest = build_digest("team", [event(1, "budget_cut", {"name": "事業X"})], now=NOW)
    assert [(c.kind, c.label) for c in digest.counts] == [("budget_cut", "budget_cut")]
    assert entries(digest, "budget_cut")[0].title == "事業X"


def test_missing_payload_keys_do_not_crash() -> None:
    events = [
        event(i, kind, {})
        for i, kind in enumerate(
            ["added", "changed", "renamed", "link_dead", "link_moved", "page_changed", "source_failed"]
        )
    ]
    assert build_digest("team", events, now=NOW).total == 7


def test_idempotency_key_depends_on_notifier_and_events_not_their_order() -> None:
    events = counted_events()
    key = build_digest("team", events, now=NOW).idempotency_key
    assert (
        build_digest("team", list(reversed(events)), now=datetime(2030, 1, 1, tzinfo=NOW.tzinfo)).idempotency_key == key
    )
    assert build_digest("other", events, now=NOW).idempotency_key != key
    assert idempotency_key("team", [], now=NOW) != idempotency_key(
        "team", [], now=datetime(2030, 1, 1, tzinfo=NOW.tzinfo)
    )


def test_naive_times_and_unknown_languages_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        EventView(1, "added", datetime(2024, 5, 1), {})
    with pytest.raises(ConfigError, match="language 'fr'"):
        build_digest("team", [], now=NOW, language="fr")
