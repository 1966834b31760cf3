"""Words only a digest shows, in Japanese (the default) and English.

Templates never spell a label themselves: they read ``digest.labels`` (``ui`` below), so a
user's own template gets the notifier's language for free. Event kinds and link outcomes,
and the words the web view shows too (``old``, ``department`` …), are labelled once for
every reader, in :mod:`monitor.labels`.
"""

from __future__ import annotations

from monitor.errors import ConfigError
from monitor.labels import LANGUAGES, Language, words

__all__ = ["LANGUAGES", "check_language", "ending_title", "fact_label", "ui_labels"]

_FACTS: dict[str, dict[str, str]] = {
    "ja": {
        "outcome": "状態",
        "http_status": "HTTPステータス",
        "since": "発生日時",
        "dead_since": "リンク切れ発生",
        "failed_since": "失敗開始",
        "final_url": "移転先",
        "summary": "変更箇所",
        "suggestion": "候補",
        "column": "列名",
    },
    "en": {
        "outcome": "State",
        "http_status": "HTTP status",
        "since": "Since",
        "dead_since": "Dead since",
        "failed_since": "Failing since",
        "final_url": "Moved to",
        "summary": "What changed",
        "suggestion": "Instead",
        "column": "Column",
    },
}

_UI: dict[str, dict[str, str]] = {
    "ja": {
        "app": "sesaku-monitor",
        "summary": "概要",
        "details": "詳細",
        "total": "合計",
        "count_suffix": "件",
        "item": "項目",
        "detail": "内容",
        "measures": "該当する施策",
        "other_sources": "その他（複数の一覧）",
        "all_quiet": "前回の通知以降、変更はありません。",
        "all_quiet_subject": "変更なし",
        "separator": "・",
        "generated_at": "作成日時",
        "ending_none": "該当する施策はありません。",
    },
    "en": {
        "app": "sesaku-monitor",
        "summary": "Summary",
        "details": "Details",
        "total": "Total",
        "count_suffix": "",
        "item": "Item",
        "detail": "Detail",
        "measures": "Measures citing it",
        "other_sources": "Other (several lists)",
        "all_quiet": "Nothing has changed since the last message.",
        "all_quiet_subject": "no changes",
        "separator": " · ",
        "generated_at": "Generated",
        "ending_none": "No measure.",
    },
}


_ENDING_TITLE = {"ja": "{days}日以内に終了予定", "en": "Ending within {days} days"}


def ending_title(days: int, language: str) -> str:
    """The heading of a digest's ending-soon section: 「90日以内に終了予定」."""
    return _ENDING_TITLE[language].format(days=days)


def check_language(language: str) -> Language:
    if language not in LANGUAGES:
        raise ConfigError(f"unknown notifier language {language!r} (known: {', '.join(LANGUAGES)})")
    return language


def fact_label(fact: str, language: str) -> str:
    return _FACTS[language].get(fact) or words(check_language(language)).get(fact, fact)


def ui_labels(language: str) -> dict[str, str]:
    return {**words(check_language(language)), **_UI[language]}
