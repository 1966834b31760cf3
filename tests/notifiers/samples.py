"""Sample events for the notifier tests, built the way the store will hand them over.

A plain module rather than fixtures, so that tests can build variations of them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from monitor.events import EventView

NOW = datetime(2024, 5, 1, 0, 0, tzinfo=UTC)
TAMA = ("tama-s2", "地元自治体が活用できる施策【戦略2】")
NATION = ("tokyo-nationwide", "全国各地との連携事業一覧")
LONG_OLD = (
    "本事業は、東京都が多摩地域の振興のために定めた計画に基づき、多摩地域の市町村が実施する地域の活性化に資する"
    "取組に対して補助金を交付するものであり、令和5年度から開始した。対象経費の2分の1を補助する。"
)
LONG_NEW = LONG_OLD.replace("地域の活性化に資する", "まちづくりの").replace("2分の1", "3分の2")


def event(
    event_id: int, kind: str, payload: dict[str, Any], source: tuple[str, str] | None = TAMA, **ids: int
) -> EventView:
    source_id, title = source if source else (None, None)
    return EventView(event_id, kind, NOW, payload, source_id, title, ids.get("measure_id"), ids.get("link_id"))


def measure(measure_id: int, name: str, source: tuple[str, str] = TAMA) -> dict[str, Any]:
    return {"id": measure_id, "name": name, "source_id": source[0]}


def counted_events() -> list[EventView]:
    """3 added, 1 ended, 2 dead links: the subject example of issue 4."""
    return [
        event(1, "added", {"key": "a", "name": "多摩の森林再生事業", "fields": {"所管": "産業労働局"}}, measure_id=1),
        event(
            2,
            "added",
            {"key": "b", "name": "<script>alert('x')</script>", "fields": {"所管": "<b>局</b>"}},
            measure_id=2,
        ),
        event(3, "added", {"key": "c", "name": "公園整備事業", "fields": {}}, measure_id=3),
        event(4, "ended", {"key": "d", "name": "旧制度"}, measure_id=4),
        event(
            5,
            "link_dead",
            _dead("https://www.metro.tokyo.jp/gone.html", [measure(1, "多摩の森林再生事業")]),
            None,
            link_id=7,
        ),
        event(6, "link_dead", _dead("javascript:alert(1)", [measure(3, "公園整備事業")]), None, link_id=8),
    ]


def _dead(url: str, measures: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "url": url,
        "outcome": "not_found",
        "http_status": 404,
        "since": "2024-04-30T01:00:00+00:00",
        "measures": measures,
    }


def all_kinds() -> list[EventView]:
    return [
        event(
            10,
            "changed",
            {
                "key": "k",
                "name": "補助事業",
                "fields": {"予算": {"old": "100", "new": "120"}, "概要": {"old": LONG_OLD, "new": LONG_NEW}},
            },
            measure_id=12,
        ),
        event(
            11,
            "renamed",
            {
                "key": "r",
                "name": "新名称",
                "old_name": "旧名称",
                "new_name": "新名称",
                "fields": {"所管": {"old": "総務局", "new": "政策企画局"}},
            },
            NATION,
            measure_id=13,
        ),
        event(12, "expired", {"key": "e", "name": "期限付き事業", "end_date": "2024-03-31"}, measure_id=14),
        event(13, "reappeared", {"key": "p", "name": "復活事業"}, measure_id=15),
        event(
            14,
            "link_recovered",
            {
                "url": "https://ok.example.jp/",
                "outcome": "ok",
                "http_status": 200,
                "dead_since": "2024-04-01T00:00:00+00:00",
                "measures": [measure(12, "補助事業")],
            },
            None,
            link_id=9,
        ),
        event(
            15,
            "link_moved",
            {
                "url": "http://www.metro.tokyo.jp/a",
                "final_url": "https://www.metro.tokyo.lg.jp/a",
                "http_status": 301,
                "measures": [measure(12, "補助事業"), measure(13, "新名称", NATION)],
            },
            None,
            link_id=10,
        ),
        event(
            16,
            "page_changed",
            {
                "url": "https://page.example.jp/",
                "summary": "募集期間: 5月 → 6月",
                "measures": [measure(12, "補助事業")],
            },
            None,
            link_id=11,
        ),
        event(
            17, "source_failed", {"error": "HTTP 503 Service Unavailable", "since": "2024-04-30T22:00:00+00:00"}, NATION
        ),
        event(18, "source_suspect", {"error": "list has 3 records, expected about 40"}),
        event(19, "source_recovered", {"failed_since": "2024-04-29T00:00:00+00:00"}),
        event(20, "edition_changed", {"old_edition": "令和5年4月1日時点", "new_edition": "令和6年4月1日時点"}, NATION),
    ]
