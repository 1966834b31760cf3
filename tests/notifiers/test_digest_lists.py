"""Lists found on or gone from an index page appear in a digest by title, with their URL."""

from datetime import datetime, timezone

from monitor.events import EventView
from notifiers import build_digest
from notifiers.render import render

NOW = datetime(2026, 4, 1, tzinfo=timezone.utc)


def test_list_added_and_removed_are_named_in_both_languages():
    events = [
        EventView(1, "list_added", NOW, {"list_id": "tama-7", "title": "【戦略7】 多摩の魅力", "url": "https://example.lg.jp/s7.pdf"}, source_id="tama"),
        EventView(2, "list_removed", NOW, {"list_id": "tama-1", "title": "【戦略1】 旧一覧", "url": "https://example.lg.jp/s1.pdf"}, source_id="tama"),
    ]
    ja = render(build_digest("n", events, now=NOW))
    assert "一覧の追加" in ja.subject and "一覧の削除" in ja.text
    assert "【戦略7】 多摩の魅力" in ja.text and "https://example.lg.jp/s7.pdf" in ja.html
    en = render(build_digest("n", events, now=NOW, language="en"))
    assert "List added" in en.text and "【戦略1】 旧一覧" in en.text
